package starling

import (
	"context"
	"errors"
	"testing"
)

// TestWriteUnderEndedContextKeepsConn calls each write under a context
// that has already ended: nothing of the frame or message has left, so
// the call returns the context's error and the connection stays open, as
// it does when the context ends while the call waits for the write lock.
// (It used to be closed, but only when no other writer held the lock.)
func TestWriteUnderEndedContextKeepsConn(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	pm, err := NewPreparedMessage(MessageText, []byte("prepared"))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(c *Conn) error{
		"Write":         func(c *Conn) error { return c.Write(ended, MessageText, []byte("x")) },
		"WritePrepared": func(c *Conn) error { return c.WritePrepared(ended, pm) },
		"WritePing":     func(c *Conn) error { return c.WritePing(ended, nil) },
		"WritePong":     func(c *Conn) error { return c.WritePong(ended, nil) },
		"Ping":          func(c *Conn) error { _, err := c.Ping(ended); return err },
		"Writer": func(c *Conn) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := c.Writer(ctx, MessageText)
			if err != nil {
				return err
			}
			cancel() // before the message's first frame leaves
			w.Write([]byte("x"))
			return w.Close()
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				if err := call(c); !errors.Is(err, context.Canceled) {
					t.Fatalf("%s = %v, want context.Canceled", name, err)
				}
				if err := c.Write(context.Background(), MessageText, []byte("after")); err != nil {
					t.Fatalf("Write after %s: %v", name, err)
				}
				if f, err := p.nextNonPong(); err != nil || f.op != 0x1 || string(f.payload) != "after" {
					t.Fatalf("peer got op %#x %q, %v; want only the text \"after\"", f.op, f.payload, err)
				}
			})
		})
	}
}

// TestEndedContextRacesNoWatcher repeats a write under a context that has
// already ended, each time a new one: the context's watcher runs at once,
// and must never find the refused write in progress and close the
// connection. (It did about once in a few hundred calls.)
func TestEndedContextRacesNoWatcher(t *testing.T) {
	c, p := newPair(t, clientRole, pipeTransport)
	for i := 0; i < 20000; i++ {
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.WritePing(ended, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("WritePing %d = %v, want context.Canceled", i, err)
		}
	}
	if err := c.Write(context.Background(), MessageText, []byte("after")); err != nil {
		t.Fatalf("Write after the refused pings: %v", err)
	}
	if f, err := p.nextNonPong(); err != nil || f.op != 0x1 || string(f.payload) != "after" {
		t.Fatalf("peer got op %#x %q, %v; want only the text \"after\"", f.op, f.payload, err)
	}
}
