package starling

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/starling-ws/starling/internal/frame"
)

// Ping sends a ping and waits for the matching pong, returning the round
// trip time. The pong is seen only while some goroutine reads from the
// connection. Each Ping carries its own payload and waits for the pong
// with it, or with a later Ping's: RFC 6455 section 5.5.3 lets a peer
// answer only the latest of several pings.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	done := make(chan struct{})
	var id uint64
	defer func() {
		if id != 0 {
			c.closeMu.Lock()
			delete(c.pings.waiting, id)
			c.closeMu.Unlock()
		}
	}()
	var start time.Time
	err := c.locked(ctx, false, func() error {
		// The id is drawn under frameMu, so that pings leave in the
		// order of their ids and a pong answers the lower ids too.
		c.closeMu.Lock()
		if c.pings == nil {
			c.pings = &pings{waiting: make(map[uint64]chan struct{})}
		}
		c.pings.seq++
		id = c.pings.seq
		c.pings.waiting[id] = done
		c.closeMu.Unlock()
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], id)
		start = time.Now()
		return c.writeFrameLocked(true, frame.OpPing, false, p[:])
	})
	if err != nil {
		return 0, err
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.closed.done(&c.closeMu):
		return 0, c.cause()
	}
}

// handleControl reads a control frame's payload and acts on it (RFC 6455
// section 5.5).
func (c *Conn) handleControl(h frame.Header) error {
	// The payload (at most 125 bytes) is handled where it lies in the read
	// buffer. It is consumed at once, as handling a close frame may read on
	// (finishClose), but only after it is done with p: the bytes stay put
	// until the next read.
	p, err := c.br.Peek(int(h.Length))
	if err != nil {
		return c.readError(err)
	}
	c.br.Discard(len(p))
	if h.Masked {
		frame.Mask(h.Key, 0, p)
	}
	switch h.Opcode {
	case frame.OpPing:
		if c.x != nil && c.x.onPing != nil {
			c.x.onPing(p)
		}
		// Section 5.5.2: answer with the same payload, unless our close
		// frame has already gone out.
		// A writer stuck on a peer that does not read holds the frame
		// lock until the write timeout closes the connection; the pong
		// waits for it rather than giving up with the connection open.
		if !c.flags.has(flagCloseSent) {
			if err := c.writeControl(context.Background(), frame.OpPong, p); err != nil && !c.flags.has(flagCloseSent) {
				return err
			}
		}
	case frame.OpPong:
		if c.x != nil && c.x.onPong != nil {
			c.x.onPong(p)
		}
		c.matchPong(p)
	case frame.OpClose:
		return c.receiveClose(p)
	}
	return nil
}

// pings are the Pings waiting for their pong, by payload, guarded by
// closeMu.
type pings struct {
	waiting map[uint64]chan struct{}
	seq     uint64
}

// matchPong wakes the Ping waiting for pong payload p, if any, and the
// Pings sent before it, which the pong answers too (section 5.5.3).
func (c *Conn) matchPong(p []byte) {
	if len(p) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(p)
	c.closeMu.Lock()
	if c.pings == nil {
		c.closeMu.Unlock()
		return
	}
	if _, ok := c.pings.waiting[id]; ok {
		for n, done := range c.pings.waiting {
			if n <= id {
				close(done)
				delete(c.pings.waiting, n)
			}
		}
	}
	c.closeMu.Unlock()
}
