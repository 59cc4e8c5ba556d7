package starling

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Interrupted reads and writes. A read whose context ends while it waits
// for input is cut short by moving the transport's read deadline into the
// past, not by closing the connection: no byte is lost, and when the read
// was waiting for a message to start, the connection stays open for the
// next one. Only a read cut short partway through a message closes it,
// since the part already read cannot be given back; the stream NetConn
// reads is the exception (it resumes where it stopped, see resumable).
//
// Writes are cut short the same way for NetConn alone: the rest of the
// frame then waits in the connection and leaves before anything else
// (sendv), from a goroutine of its own if no write comes first
// (sendUnsent), so the stream stays whole. Other writes close the
// connection, since the caller of a message cut short could not know it
// still leaves.
//
// Whoever sets a deadline while an interruption is pending puts it back
// into the past (setReadDeadline, setWriteDeadline), so the flag and the
// deadline never disagree for long: the next read or write takes the
// interruption, and reads or writes again if it was meant for an earlier
// call whose context has ended since.

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

// interruptedError is the error of a read or write cut short by its
// context, until the reader or writer decides whether the connection
// survives it (keptOpen, readError, writeFailed). It wraps the context's
// error.
type interruptedError struct {
	err  error
	kept bool // the write had begun, and its rest will be sent (sendv)
}

func (e *interruptedError) Error() string { return e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// interrupt cuts short the operation of w, whose context has ended,
// reporting false if it must close the connection instead.
func (c *Conn) interrupt(w *ctxWatch) bool {
	if w.reads(c) {
		return c.poke(c.interruptible(), flagReadInterrupted)
	}
	return c.flags.has(flagStreamWrite) && c.poke(c.writeInterruptible(), flagWriteInterrupted)
}

// interruptible returns c's transport if a read deadline does not harm it:
// a net.Conn's reads resume, and so do the browser's (browser_js.go); an
// HTTP/2 stream's deadline ends the stream.
func (c *Conn) interruptible() deadliner {
	switch t := c.rwc.(type) {
	case net.Conn:
		return t
	case interface {
		deadliner
		resumesAfterDeadline()
	}:
		return t
	}
	return nil
}

// writeInterruptible returns c's transport if a write deadline does not
// harm it: a net.Conn's, except a TLS connection's, whose state is
// corrupt once a write has timed out (crypto/tls says so).
func (c *Conn) writeInterruptible() deadliner {
	if _, ok := c.rwc.(*tls.Conn); ok {
		return nil
	}
	if nc, ok := c.rwc.(net.Conn); ok {
		return nc
	}
	return nil
}

// poke sets flag and moves the deadline of its direction into the past. It
// reports false if d is nil: the transport cannot be interrupted.
func (c *Conn) poke(d deadliner, flag uint32) bool {
	if d == nil {
		return false
	}
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if !c.closed.hasFired() {
		// The flag and the deadline move together, under closeMu, so
		// that takeInterrupt never sees one without the other.
		c.flags.set(flag, true)
		setDeadline(d, flag, aLongTimeAgo)
	}
	return true
}

// setDeadline sets d's read deadline for flagReadInterrupted, its write
// deadline for flagWriteInterrupted.
func setDeadline(d deadliner, flag uint32, t time.Time) {
	if flag == flagReadInterrupted {
		_ = d.SetReadDeadline(t)
	} else {
		_ = d.SetWriteDeadline(t)
	}
}

// setReadDeadline sets the transport's read deadline, keeping a pending
// interruption's.
func (c *Conn) setReadDeadline(d deadliner, t time.Time) {
	_ = d.SetReadDeadline(t)
	if c.flags.has(flagReadInterrupted) {
		_ = d.SetReadDeadline(aLongTimeAgo)
	}
}

// setWriteDeadline sets the transport's write deadline, keeping a pending
// interruption's.
func (c *Conn) setWriteDeadline(d deadliner, t time.Time) {
	_ = d.SetWriteDeadline(t)
	if c.flags.has(flagWriteInterrupted) {
		_ = d.SetWriteDeadline(aLongTimeAgo)
	}
}

// takeInterrupt is called with the error of a read (flag
// flagReadInterrupted) or write (flagWriteInterrupted) while flag is set.
// If the error is the deadline poke set, it clears flag, sets deadline
// (the deadline the direction should have), and returns the context's
// error of the operation w watches as an *interruptedError, or nil if that
// context has not ended (the interruption was meant for an earlier
// operation): the caller then goes on. Any other error is returned as it is.
func (c *Conn) takeInterrupt(err error, w *ctxWatch, flag uint32, deadline time.Time) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.closeMu.Lock()
	c.flags.set(flag, false)
	setDeadline(c.rwc.(deadliner), flag, deadline) // poked, so a deadliner
	c.closeMu.Unlock()
	if ctx := w.ctx; ctx != nil && ctx.Err() != nil {
		return &interruptedError{err: fmt.Errorf("starling: %w", ctxError(ctx))}
	}
	return nil
}

// takeReadInterrupt is takeInterrupt for a read: the read deadline goes
// back to the idle timeout's, if there is one, where it was armed. A read
// cut short by its context is no input: a loop that polls with short
// contexts must not postpone the idle timeout (see armIdleDeadline).
func (c *Conn) takeReadInterrupt(err error) error {
	deadline := time.Time{}
	if x := c.x; x != nil && x.idleTimeout > 0 {
		if x.idleArmed == 0 {
			x.idleArmed = sinceStart()
		}
		deadline = clockStart.Add(x.idleArmed + x.idleTimeout)
		x.idleHeld, x.idleBytes = true, c.stats.bytesRead.Load()
	}
	return c.takeInterrupt(err, &c.rwatch, flagReadInterrupted, deadline)
}

// takeWriteInterrupt is takeInterrupt for a write, under frameMu: the
// write deadline goes back to the write timeout's. On a socket, that is
// none until a write has to wait (sendvOnce).
func (c *Conn) takeWriteInterrupt(err error) error {
	deadline := time.Time{}
	if s := c.sock; s != nil {
		s.armed = false
	} else if c.writeTimeout > 0 {
		c.writeArmed = sinceStart()
		deadline = time.Now().Add(c.writeTimeout)
	}
	return c.takeInterrupt(err, &c.wwatch, flagWriteInterrupted, deadline)
}

// resumable reports whether a read that stops here, with nothing
// consumed from the frame it was reading, can return without closing the
// connection: between messages, or, for NetConn's stream, anywhere in an
// uncompressed message (the decompressor does not resume).
func (c *Conn) resumable() bool {
	return !c.rs.inMessage || c.flags.has(flagStreamRead) && !c.rs.compress
}

// keptOpen returns the error a read cut short by its context should
// return if it stopped where it can resume, and nil otherwise: for any
// other error, and for an interruption elsewhere, which readError turns
// into the connection's end.
func (c *Conn) keptOpen(err error) error {
	if ie, ok := err.(*interruptedError); ok && c.resumable() {
		return ie.err
	}
	return nil
}
