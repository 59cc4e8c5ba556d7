package starling

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Interrupted reads. A read whose context ends while it waits for input
// is cut short by moving the transport's read deadline into the past, not
// by closing the connection: no byte is lost, and when the read was
// waiting for a message to start, the connection stays open for the next
// one. Only a read cut short partway through a message closes it, since
// the part already read cannot be given back; the stream NetConn reads is
// the exception (it resumes where it stopped, see resumable).

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

// interruptedError is the error of a read cut short by its context, until
// the reader decides whether the connection survives it (keptOpen,
// readError). It wraps the context's error.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// readDeadliner is a transport whose reads go on unharmed after a read
// deadline cut one short.
type readDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// interruptible returns c's transport as a readDeadliner, or nil if a
// deadline would harm it: a net.Conn's reads resume, and so do the
// browser's (browser_js.go); an HTTP/2 stream's deadline ends the stream.
func (c *Conn) interruptible() readDeadliner {
	switch t := c.rwc.(type) {
	case net.Conn:
		return t
	case interface {
		readDeadliner
		resumesAfterDeadline()
	}:
		return t
	}
	return nil
}

// interruptRead cuts short the read in progress because its context has
// ended. It reports false if the transport cannot be interrupted without
// harm (interruptible).
func (c *Conn) interruptRead() bool {
	nc := c.interruptible()
	if nc == nil {
		return false
	}
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if !c.closed.hasFired() {
		// The flag and the deadline move together, under closeMu, so
		// that takeInterrupt never sees one without the other.
		c.flags.set(flagInterrupted, true)
		_ = nc.SetReadDeadline(aLongTimeAgo)
	}
	return true
}

// takeInterrupt is called with the error of a read from the transport
// while flagInterrupted is set. If the error is the deadline interruptRead
// set, it restores the read deadline and returns the read's context's
// error as an *interruptedError, or nil if that context has not ended
// (the interruption was meant for an earlier read): the caller then reads
// again. Any other error is returned as it is.
func (c *Conn) takeInterrupt(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.closeMu.Lock()
	c.flags.set(flagInterrupted, false)
	deadline := time.Time{}
	if x := c.x; x != nil && x.idleTimeout > 0 {
		x.idleArmed = sinceStart()
		deadline = time.Now().Add(x.idleTimeout)
	}
	_ = c.interruptible().SetReadDeadline(deadline)
	c.closeMu.Unlock()
	ctx := c.rwatch.ctx
	if ctx == nil || ctx.Err() == nil {
		return nil
	}
	return &interruptedError{fmt.Errorf("starling: %w", context.Cause(ctx))}
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
