package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// wsServer runs serve for each WebSocket accepted on a real loopback
// listener, and returns its ws:// URL.
func wsServer(t *testing.T, serve func(ctx context.Context, c *starling.Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		serve(context.Background(), c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// echoServer answers every message with change(message).
func echoServer(t *testing.T, change func([]byte) []byte) string {
	t.Helper()
	return wsServer(t, func(ctx context.Context, c *starling.Conn) {
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, change(p)); err != nil {
				return
			}
		}
	})
}

func same(p []byte) []byte { return p }

func TestRunCount(t *testing.T) {
	url := echoServer(t, same)
	for _, typ := range []starling.MessageType{starling.MessageBinary, starling.MessageText} {
		res, err := Run(context.Background(), Config{URL: url, Connections: 3, Size: 100, Type: typ, Window: 4, Count: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Messages != 1000 || res.Errors != 0 || res.Latency.Count() != 1000 || res.Bytes != 100000 || res.Connections != 3 {
			t.Fatalf("%v: %d messages, %d bytes, %d errors %q, %d latencies; want 1000, 100000, 0, 1000",
				typ, res.Messages, res.Bytes, res.Errors, res.ErrorSample, res.Latency.Count())
		}
	}
}

func TestRunDuration(t *testing.T) {
	url := echoServer(t, same)
	var ticks atomic.Int32
	res, err := Run(context.Background(), Config{URL: url, Connections: 2, Size: 4, Window: 2,
		Duration: 600 * time.Millisecond, Progress: func(Progress) { ticks.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages == 0 || res.Errors != 0 || res.Elapsed < 600*time.Millisecond {
		t.Fatalf("%d messages, %d errors %q in %v", res.Messages, res.Errors, res.ErrorSample, res.Elapsed)
	}
	if ticks.Load() == 0 {
		t.Error("no progress reported")
	}
}

func TestRunDetectsAlteredEchoes(t *testing.T) {
	url := echoServer(t, func(p []byte) []byte {
		p[len(p)-1] ^= 1
		return p
	})
	res, err := Run(context.Background(), Config{URL: url, Size: 32, Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 10 || len(res.ErrorSample) == 0 || !strings.Contains(res.ErrorSample[0], "altered at byte 31") {
		t.Fatalf("%d errors %q, want 10 alterations at byte 31", res.Errors, res.ErrorSample)
	}
}

func TestRunNoConnection(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Run(context.Background(), Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Connections: 2, Count: 1})
	var he *starling.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Fatalf("Run against a 404 = %v, want the handshake error", err)
	}
}

// TestRunWindow checks that no more than Window messages are in flight on
// a connection, and that a round trip is timed from its own send: with a
// window of one against a server that answers after delay, every latency
// is about delay, not the wait for the previous echo as well.
func TestRunWindow(t *testing.T) {
	const delay = 100 * time.Millisecond
	var inflight, most atomic.Int32
	url := wsServer(t, func(ctx context.Context, c *starling.Conn) {
		type msg struct {
			typ starling.MessageType
			p   []byte
		}
		queue := make(chan msg, 100)
		defer close(queue)
		go func() {
			for m := range queue {
				time.Sleep(delay)
				inflight.Add(-1) // before the echo, which lets the next message go
				if err := c.Write(ctx, m.typ, m.p); err != nil {
					return
				}
			}
		}()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			n := inflight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			queue <- msg{typ, p}
		}
	})
	for _, window := range []int{1, 3} {
		most.Store(0)
		res, err := Run(context.Background(), Config{URL: url, Size: 16, Window: window, Count: int64(4 * window)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Messages != int64(4*window) || res.Errors != 0 {
			t.Fatalf("window %d: %d messages, %d errors %q", window, res.Messages, res.Errors, res.ErrorSample)
		}
		if got := most.Load(); got != int32(window) {
			t.Errorf("window %d: the server saw up to %d messages in flight", window, got)
		}
		if p50 := res.Latency.Quantile(0.5); window == 1 && p50 > delay*17/10 {
			t.Errorf("window 1: p50 latency %v against a server answering in %v", p50, delay)
		}
	}
}

// TestRunCountLostEcho checks that a run of -n messages ends drainGrace
// after the last send when an echo never comes, as a run for a duration
// does, instead of waiting for it forever, and says the echo was lost.
func TestRunCountLostEcho(t *testing.T) {
	url := wsServer(t, func(ctx context.Context, c *starling.Conn) {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*drainGrace)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Config{URL: url, Size: 16, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*drainGrace || res.Messages != 0 || res.Errors != 1 {
		t.Fatalf("took %v, %d messages, %d errors %q; want an error within %v", took, res.Messages, res.Errors, res.ErrorSample, 2*drainGrace)
	}
	// Reported as a lost echo, not as the "context canceled" of the read
	// given up.
	if want := "read: no echo within " + drainGrace.String(); len(res.ErrorSample) != 1 || res.ErrorSample[0] != want {
		t.Fatalf("errors %q; want %q", res.ErrorSample, want)
	}
}
