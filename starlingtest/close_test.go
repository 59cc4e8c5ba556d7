package starlingtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestPipeConcurrentClose closes both ends at once, from both sides, while
// each reads and writes: every call returns, and both ends end with an
// error, within the test's timeout.
func TestPipeConcurrentClose(t *testing.T) {
	for i := range 50 {
		client, server := pipe(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var wg sync.WaitGroup
		for _, c := range []*starling.Conn{client, server} {
			wg.Go(func() {
				for {
					if _, _, err := c.Read(ctx); err != nil {
						return
					}
				}
			})
			wg.Go(func() {
				for {
					if err := c.Write(ctx, starling.MessageText, []byte("x")); err != nil {
						return
					}
				}
			})
		}
		closers := []func(){
			func() { client.Close(starling.StatusNormalClosure, "") },
			func() { server.Close(starling.StatusGoingAway, "") },
			func() { client.CloseNow() },
			func() { server.CloseNow() },
		}
		for j, close := range closers {
			if j < 2 || i%2 == 0 {
				wg.Go(close)
			}
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatalf("round %d: the ends took until the timeout to close", i)
		}
		cancel()
	}
}

// TestPipeCancelled gives Pipe a context that ends before or during the
// handshake: it returns an error, and leaves nothing running.
func TestPipeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Pipe(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pipe with a cancelled context: got %v, want context.Canceled", err)
	}
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
		client, server, err := Pipe(ctx, nil)
		cancel()
		if err == nil {
			client.CloseNow()
			server.CloseNow()
		}
	}
}
