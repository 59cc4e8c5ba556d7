package bench

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// closeDelay is how long the server below takes to answer the close
// handshake after its last echo.
const closeDelay = 3 * time.Second

// TestRunElapsedEndsAtLastEcho checks that the elapsed time, and so the
// rates computed from it, runs from the first send to the last echo, as
// Result documents, and not on through a slow close handshake.
func TestRunElapsedEndsAtLastEcho(t *testing.T) {
	const count = 20
	url := wsServer(t, func(ctx context.Context, c *starling.Conn) {
		for range count {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
		time.Sleep(closeDelay) // then read the close frame and answer it
		_, _, _ = c.Read(ctx)
	})
	res, err := Run(context.Background(), Config{URL: url, Size: 16, Count: count})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != count || res.Elapsed >= closeDelay {
		t.Fatalf("%d messages in %v (%.1f msg/s), errors %q; want %d, the elapsed time ending at the last echo, before the %v close",
			res.Messages, res.Elapsed, float64(res.Messages)/res.Elapsed.Seconds(), res.ErrorSample, count, closeDelay)
	}
}
