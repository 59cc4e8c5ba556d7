package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/starlingtest"
)

func startTestServer(t *testing.T) string {
	return startTestServerQueue(t, memberQueue)
}

func startTestServerQueue(t *testing.T, queue int) string {
	t.Helper()
	s := New(Options{TickInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	s.room.queue = queue
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func dial(t *testing.T, url string) *starling.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func next(t *testing.T, c *starling.Conn) ChatEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, p, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ev ChatEvent
	if err := json.Unmarshal(p, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"  alice ":              "alice",
		"bo\x00b\n":             "bob",
		strings.Repeat("é", 40): strings.Repeat("é", maxNameLen),
		"\u200b":                "",
		"Zoë the 2nd":           "Zoë the 2nd",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A member that stops reading is dropped with 1008 once its queue is full,
// and the others go on chatting.
func TestSlowMemberIsDropped(t *testing.T) {
	const queue = 8 // fills sooner than the default, same behaviour
	url := startTestServerQueue(t, queue)
	slow := dial(t, url+"/chat?name=slow")
	next(t, slow) // welcome; from now on slow reads nothing
	fast := dial(t, url+"/chat?name=fast")
	next(t, fast) // welcome
	big := strings.Repeat("x", 64<<10)
	ctx := context.Background()
	dropped := false
	const limit = 1000 // 64 MB: more than loopback buffers and the queue hold
	for i := 0; i < limit && !dropped; i++ {
		if err := fast.Write(ctx, starling.MessageText, []byte(big)); err != nil {
			t.Fatal(err)
		}
		for {
			ev := next(t, fast)
			if ev.Type == "leave" && ev.Name == "slow" {
				dropped = true
			}
			if ev.Type == "message" {
				break
			}
		}
	}
	if !dropped {
		t.Fatalf("slow member not dropped after %d messages of 64 KiB", limit)
	}
	var err error
	for err == nil {
		_, _, err = slow.Read(ctx)
	}
	var ce *starling.CloseError
	if !errors.As(err, &ce) || ce.Code != starling.StatusPolicyViolation {
		t.Fatalf("slow member's read ended with %v, want close 1008", err)
	}
}

func TestBinaryIsRefused(t *testing.T) {
	url := startTestServer(t)
	c := dial(t, url+"/chat")
	next(t, c)
	if err := c.Write(context.Background(), starling.MessageBinary, []byte{1}); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(context.Background())
	if code := starling.CloseStatus(err); code != starling.StatusUnsupportedData {
		t.Fatalf("after a binary message: %v, want close 1003", err)
	}
}

func TestTickerMovesPrices(t *testing.T) {
	url := startTestServer(t)
	c := dial(t, url+"/ticker")
	seen := map[string][]float64{}
	for range 4 * len(symbols) {
		_, p, err := c.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var q Quote
		if err := json.Unmarshal(p, &q); err != nil {
			t.Fatal(err)
		}
		seen[q.Symbol] = append(seen[q.Symbol], q.Price)
	}
	for _, s := range symbols {
		prices := seen[s.name]
		if len(prices) < 2 {
			t.Errorf("%s: quotes %v, want one per tick", s.name, prices)
			continue
		}
		for i := 1; i < len(prices); i++ {
			if r := prices[i] / prices[i-1]; r < 0.989 || r > 1.011 {
				t.Errorf("%s moved from %v to %v, more than 1%%", s.name, prices[i-1], prices[i])
			}
		}
	}
}

// TestCloseNotCutByQueuedEvent closes a member's connection while an event
// is queued for it, as a shutdown does when one member's leaving is
// announced to another. The event's write fails (no data after a close
// frame), and that must not cut the close handshake short: the peer must
// still see 1001. (It did not: the failed write closed the connection, and
// under load a browser saw 1006.)
func TestCloseNotCutByQueuedEvent(t *testing.T) {
	ctx := context.Background()
	for range 20 {
		client, srv, err := starlingtest.Pipe(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := &member{conn: srv, out: make(chan []byte, 2)}
		go m.writeLoop()
		// The pipe buffers nothing: this write holds the frame lock
		// until the client reads.
		m.out <- []byte(`{"type":"message"}`)
		time.Sleep(5 * time.Millisecond) // the write has begun
		closed := make(chan error, 1)
		go func() { closed <- srv.Close(starling.StatusGoingAway, "shutting down") }()
		time.Sleep(5 * time.Millisecond) // Close has begun, and waits for the lock
		m.out <- []byte(`{"type":"leave"}`)
		for err == nil {
			_, _, err = client.Read(ctx)
		}
		if got := starling.CloseStatus(err); got != starling.StatusGoingAway {
			t.Fatalf("the client's reads ended with %v (status %d), want the close frame's 1001", err, got)
		}
		close(m.out)
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		client.CloseNow()
	}
}
