package starling

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCallsAfterContextCutMidMessage has a read's context end partway
// through a message, which closes the connection: that Read returns the
// context's error, but later calls must report the connection closed, not
// that same context error, or a loop that reads with a timeout and goes on
// when it passes (as the package doc suggests) would spin forever.
func TestCallsAfterContextCutMidMessage(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		// A frame that claims 100 bytes, of which 10 come.
		f := encodeFrame(rawFrame{fin: true, op: 0x2, payload: make([]byte, 100)}, p.mask, [4]byte{1, 2, 3, 4})
		go p.write(f[:len(f)-90]) // over net.Pipe, it returns once read
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read cut mid-message = %v, want context.DeadlineExceeded", err)
		}
		later := map[string]func(ctx context.Context) error{
			"Read":  func(ctx context.Context) error { _, _, err := c.Read(ctx); return err },
			"Write": func(ctx context.Context) error { return c.Write(ctx, MessageText, []byte("x")) },
			"Ping":  func(ctx context.Context) error { _, err := c.Ping(ctx); return err },
			"Close": func(context.Context) error { return c.Close(StatusNormalClosure, "") },
		}
		for name, call := range later {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			err := call(ctx)
			cancel()
			if !errors.Is(err, ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s after the cut = %v, want ErrClosed and not the cut read's context error", name, err)
			}
		}
	})
}
