package starling

import (
	"context"
	"encoding/binary"
	"fmt"
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
	err := c.locked(ctx, controlFrame, func() error {
		// The id is drawn under frameMu, so that pings leave in the
		// order of their ids and a pong answers the lower ids too.
		c.closeMu.Lock()
		ps := c.pingsLocked()
		if ps.waiting == nil {
			ps.waiting = make(map[uint64]chan struct{})
		}
		ps.seq++
		id = ps.seq
		ps.waiting[id] = done
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
		return 0, fmt.Errorf("starling: %w", ctxError(ctx))
	case <-c.closed.done(&c.closeMu):
		return 0, c.closedError()
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
		if !c.flags.has(flagCloseSent) {
			c.queuePong(p)
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

// pings are the Pings waiting for their pong, by payload, and the pong
// waiting to be sent, guarded by closeMu.
type pings struct {
	waiting map[uint64]chan struct{}
	seq     uint64
	pong    []byte // valid while flagPongPending is set
}

// pingsLocked returns c.pings, making it if needed; closeMu must be held.
func (c *Conn) pingsLocked() *pings {
	if c.pings == nil {
		c.pings = new(pings)
	}
	return c.pings
}

// A pong is written by a goroutine of its own, never by the reader. A
// reader that wrote it would wait for the write, and so for the peer's
// reader: two peers whose readers each wrote a pong while the other's
// wrote one too (net.Pipe buffers nothing; full socket buffers do the
// same) or waited behind a writer blocked on the other would stop both
// directions until the write timeout. Only the latest ping's pong is kept
// while one waits, as RFC 6455 section 5.5.3 allows.

// queuePong makes p the pong to send next, replacing one not yet sent,
// and starts the goroutine that sends it unless it runs already.
func (c *Conn) queuePong(p []byte) {
	c.closeMu.Lock()
	ps := c.pingsLocked()
	ps.pong = append(ps.pong[:0], p...)
	c.flags.set(flagPongPending, true)
	c.closeMu.Unlock()
	if c.flags.claim(flagPongWriter) {
		go c.sendPongs()
	}
}

// sendPongs writes the queued pongs until none is left. It is the only
// goroutine that does while flagPongWriter is set; it looks for a pong
// queued after it cleared the flag, which no goroutine would send.
func (c *Conn) sendPongs() {
	for {
		closing := false
		err := c.locked(context.Background(), controlFrame, func() error {
			if closing = c.flags.has(flagCloseSent); closing {
				// sendClose sends the pong before the close frame, if
				// it still can; none may follow that frame.
				return nil
			}
			return c.writeQueuedPong()
		})
		c.flags.set(flagPongWriter, false)
		if err != nil || closing || !c.flags.has(flagPongPending) || !c.flags.claim(flagPongWriter) {
			return
		}
	}
}

// writeQueuedPong writes the queued pong, if any; frameMu must be held.
func (c *Conn) writeQueuedPong() error {
	var buf [frame.MaxControlPayload]byte
	c.closeMu.Lock()
	if !c.flags.has(flagPongPending) {
		c.closeMu.Unlock()
		return nil
	}
	p := buf[:copy(buf[:], c.pings.pong)]
	c.flags.set(flagPongPending, false)
	c.closeMu.Unlock()
	return c.writeFrameLocked(true, frame.OpPong, false, p)
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
