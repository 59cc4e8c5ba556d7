package proxy

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// lateDone is a context whose deadline is reached before its Done channel
// closes, as happens when the connection's deadline timer fires before the
// context's own timer.
type lateDone struct {
	context.Context
	deadline time.Time
}

func (c lateDone) Deadline() (time.Time, bool) { return c.deadline, true }

// TestDeadlineNoticedByConnFirst checks that ctx's deadline bounds the
// proxy handshake through the connection itself, and that the resulting
// i/o timeout is reported as context.DeadlineExceeded.
func TestDeadlineNoticedByConnFirst(t *testing.T) {
	addr, _, closed := hangingProxy(t)
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Should the deadline not apply to the connection, end the wait with
	// another error than the one wanted.
	stop := time.AfterFunc(10*time.Second, cancel)
	defer stop.Stop()
	ctx := lateDone{base, time.Now().Add(50 * time.Millisecond)}
	_, err := via(t, "http://"+addr).DialContext(ctx, mustURL(t, "ws://example.com"))
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error = %v, want an i/o timeout that is context.DeadlineExceeded", err)
	}
	<-closed
}

// TestFailureWithinDeadlineIsNotTimeout checks that a proxy's refusal or
// a reset connection, before ctx's deadline, is not reported as the
// deadline's end: a caller would retry what is no timeout.
func TestFailureWithinDeadlineIsNotTimeout(t *testing.T) {
	refusing := startConnectProxy(t, &connectProxy{refuse: "403 Forbidden"}, nil)
	resetting := server(t, nil, func(c net.Conn) {
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		// Close with a linger of zero sends RST rather than FIN.
		c.(*net.TCPConn).SetLinger(0)
	})
	for name, addr := range map[string]string{"refused": refusing, "reset": resetting} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := via(t, "http://"+addr).DialContext(ctx, mustURL(t, "ws://example.com"))
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want a failure other than context.DeadlineExceeded", err)
			}
		})
	}
}
