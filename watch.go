package starling

import (
	"context"
	"fmt"
	"sync/atomic"
)

// ctxWatch closes the connection when the context of an operation in
// progress ends, or interrupts the operation where it can (interrupt.go).
// It registers with each distinct context once and keeps the registration
// across calls, so a loop that passes the same context to every Read or
// Write allocates nothing per call. Operations using one ctxWatch
// must be serialized; release may be called at any time.
type ctxWatch struct {
	ctx context.Context
	reg atomic.Pointer[watchReg]
}

// reads reports whether w is c's read side's rather than its write side's
// (asked rather than kept: a Conn's every byte counts while it idles).
func (w *ctxWatch) reads(c *Conn) bool { return w == &c.rwatch }

// watchReg is one registration with one context. Its active flag is its
// own: a context that ends just after its operation finished must not
// close the connection because a later operation, under another context,
// is now in progress.
type watchReg struct {
	stop   func() bool
	active atomic.Bool
}

// begin marks an operation under ctx as started. It fails if ctx has
// already ended, closing the connection unless the operation can stop
// there, having consumed or sent nothing that cannot be taken back.
func (w *ctxWatch) begin(c *Conn, ctx context.Context, canStop bool) error {
	if ctx.Done() == nil && w.reg.Load() == nil {
		// A context that can never end (context.Background) needs no
		// watch, and no earlier one's registration is left to drop: the
		// common case, decided without comparing contexts.
		w.ctx = ctx
		return nil
	}
	// An ended ctx is refused before the operation is marked active: the
	// watcher of an ended ctx runs at once, and finding the operation
	// active it would close the connection the caller keeps.
	if ctx.Err() != nil {
		return refused(c, ctx, canStop)
	}
	if ctx != w.ctx {
		w.release()
		w.ctx = ctx
		if ctx.Done() != nil {
			r := new(watchReg)
			r.stop = context.AfterFunc(ctx, func() {
				if r.active.Load() && !c.interrupt(w) {
					c.shutdown(fmt.Errorf("starling: %w", ctxError(ctx)))
				}
			})
			w.reg.Store(r)
		}
	}
	if r := w.reg.Load(); r != nil {
		r.active.Store(true)
	}
	// Checked again now that the operation is active: a ctx that ended
	// since may have found it inactive, and its watcher would not cut the
	// operation short.
	if ctx.Err() != nil {
		w.end(c)
		return refused(c, ctx, canStop)
	}
	return nil
}

// refused returns the error of an operation refused because ctx has ended,
// closing the connection unless the operation can stop there.
func refused(c *Conn, ctx context.Context, canStop bool) error {
	err := fmt.Errorf("starling: %w", ctxError(ctx))
	if !canStop {
		c.shutdown(err)
	}
	return err
}

// end marks the operation as finished, and drops the registration once the
// connection is closed so that a long-lived context does not keep it.
func (w *ctxWatch) end(c *Conn) {
	if r := w.reg.Load(); r != nil {
		r.active.Store(false)
	}
	if c.isClosed() {
		w.release()
	}
}

// release drops the registration with the current context.
func (w *ctxWatch) release() {
	if r := w.reg.Swap(nil); r != nil {
		r.stop()
	}
}

// ctxError returns the error of an operation whose context has ended:
// ctx's error, and with it the cause ctx was canceled with, if another
// (context.WithCancelCause), so that errors.Is finds either.
func ctxError(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}
