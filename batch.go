package starling

import (
	"context"
	"sync"
	"time"

	"github.com/starling-ws/starling/internal/frame"
)

// Write batching. A server answering a client that pipelines its messages
// reads many of them with one read call, and would write each answer with a
// write call of its own: most of its time goes to those calls. So while
// more of the peer's input is already buffered, small data frames are
// gathered and leave together, when the reader is about to wait for input.
// A reader that does not come back soon (it does slow work between
// messages) is not waited for: batchDelay after the first frame gathered,
// a timer sends the batch. A batch holds up to four 16 KiB frames: their
// copy costs less than the write calls it saves.
//
// The timer is the one cost here an echo that never holds a frame does
// not pay: arming and stopping it for every batch is about 6 % of the CPU
// of a server echoing 16 B messages to pipelining clients (measured by
// removing it). One process-wide clock ticking every batchDelay in its
// place cost more with a single connection, since each tick wakes a
// server that would otherwise sleep; a coarser tick would hold frames for
// milliseconds.
const (
	batchSize  = 64 << 10
	batchDelay = 100 * time.Microsecond
)

var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, batchSize); return &b }}

// batch is the frames gathered and not yet written. It is made on the first
// batched frame, or the first a write deadline cuts short, and guarded by
// frameMu.
type batch struct {
	buf   *[]byte // from batchBuffers while frames are gathered
	timer *time.Timer
	// unsent is the rest of a frame NetConn's write deadline cut short,
	// which sendv sends before anything else (interrupt.go).
	unsent []byte
}

// batchFrame gathers a frame, or writes the gathered frames before or with
// it. It reports whether it wrote (or gathered) the frame itself; if not,
// the caller writes it. frameMu must be held.
func (c *Conn) batchFrame(h *frame.Header, p []byte) (bool, error) {
	b := c.batch
	gathered := b != nil && b.buf != nil
	fits := !h.Masked && frame.MaxHeaderSize+len(p) <= batchSize
	if gathered && (!fits || len(*b.buf)+frame.MaxHeaderSize+len(p) > batchSize) {
		if err := c.writeBatch(); err != nil {
			if ie, ok := err.(*interruptedError); ok {
				// The batch's rest leaves later, but this frame was
				// neither gathered nor begun (sendv).
				return true, &interruptedError{err: ie.err}
			}
			return true, err
		}
		gathered = false
	}
	if !fits || !gathered && (!c.flags.has(flagReadAhead) || h.Opcode.IsControl()) {
		return false, nil
	}
	if b == nil {
		b = new(batch)
		c.batch = b
	}
	if b.buf == nil {
		b.buf = batchBuffers.Get().(*[]byte)
		c.flags.set(flagBatched, true)
		if b.timer == nil {
			b.timer = time.AfterFunc(batchDelay, c.flushBatchLater)
		} else {
			b.timer.Reset(batchDelay)
		}
	}
	buf := *b.buf
	n := frame.Encode(buf[len(buf):batchSize], h)
	buf = append(buf[:len(buf)+n], p...)
	*b.buf = buf
	if c.flags.has(flagReadAhead) && !h.Opcode.IsControl() {
		return true, nil
	}
	// The reader has caught up, or this frame must not wait: send all.
	return true, c.writeBatch()
}

// writeBatch writes the gathered frames. frameMu must be held.
func (c *Conn) writeBatch() error {
	b := c.batch
	if b == nil || b.buf == nil {
		return nil
	}
	b.timer.Stop()
	buf := b.buf
	b.buf = nil
	c.flags.set(flagBatched, false)
	err := c.send(*buf)
	if ie, ok := err.(*interruptedError); ok && !ie.kept {
		// The rest of an earlier frame was cut short again, before
		// the batch began. Its frames were counted as written (Write
		// returned), so they follow that rest, before anything else.
		b.unsent = append(b.unsent, *buf...)
		ie.kept = true
	}
	*buf = (*buf)[:0]
	batchBuffers.Put(buf)
	return err
}

// flushBatch sends the gathered frames, if any, unless a writer holds
// frameMu: that writer sends them with its own frame. The reader calls it
// before it waits for input.
func (c *Conn) flushBatch() {
	if !c.flags.has(flagBatched) || !c.frameMu.tryLock() {
		return
	}
	defer c.frameMu.unlock()
	c.writeBatchLocked()
}

// flushBatchClosing sends the gathered frames, if any, as the connection
// closes: as flushBatch, but a peer that does not take them gets batchDelay,
// not the write timeout.
func (c *Conn) flushBatchClosing() {
	if !c.flags.has(flagBatched) || c.isClosed() || !c.frameMu.tryLock() {
		return
	}
	defer c.frameMu.unlock()
	if d := c.deadlines(); d != nil {
		_ = d.SetWriteDeadline(time.Now().Add(batchDelay))
		if c.sock != nil {
			c.sock.deadlineSet = true
		}
	}
	_ = c.writeBatch()
}

// flushBatchLater is the batch timer's: it sends what a reader that has
// not come back left gathered.
func (c *Conn) flushBatchLater() {
	if !c.flags.has(flagBatched) || c.frameMu.lock(context.Background(), c) != nil {
		return
	}
	defer c.frameMu.unlock()
	c.writeBatchLocked()
}

// writeBatchLocked is writeBatch with the bookkeeping of locked: the write
// deadline, and the connection failed if the write fails.
func (c *Conn) writeBatchLocked() {
	if c.isClosed() {
		return
	}
	c.armWriteDeadline()
	err := c.writeBatch()
	c.disarmWriteDeadline()
	if err != nil {
		c.writeFailed(err)
	}
}
