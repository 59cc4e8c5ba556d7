package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/starlingtest"
)

// TestLeaveAndCloseDropTheQueue queues messages for a connection that
// reads none yet, then makes it leave, or closes the hub: the messages
// still queued are dropped, as Leave and Close promise. The one the hub
// was writing may still arrive; the connection stays usable.
func TestLeaveAndCloseDropTheQueue(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *hub.Hub, c *starling.Conn)
	}{
		{"Leave", func(h *hub.Hub, c *starling.Conn) { h.Leave(c) }},
		{"Close", func(h *hub.Hub, c *starling.Conn) { h.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := hub.New(nil)
			defer h.Close()
			client, srv := subscribedPipe(t, h, "x")
			// The pipe buffers nothing: the hub's write of the first
			// message waits for the client, and the rest stay queued.
			for _, m := range []string{"1", "2", "3", "4"} {
				publish(t, h, "x", starling.MessageText, m)
			}
			time.Sleep(2 * time.Millisecond) // the hub takes "1"
			tc.end(h, srv)
			written := make(chan error, 1)
			go func() { written <- srv.Write(ctx, starling.MessageText, []byte("end")) }()
			var got []string
			for {
				_, p, err := client.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got = append(got, string(p)); string(p) == "end" {
					break
				}
			}
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			if len(got) > 2 || len(got) == 2 && got[0] != "1" {
				t.Fatalf("after %s the connection got %q, want at most the message being written, then \"end\"", tc.name, got)
			}
		})
	}
}

// TestCloseSlowDropsTheQueue overflows the queue of a connection that
// reads nothing yet: it is closed with 1008, and the messages still queued
// are dropped, as CloseSlow promises; only the one the hub was writing may
// arrive before the close frame.
func TestCloseSlowDropsTheQueue(t *testing.T) {
	ctx := context.Background()
	h := hub.New(&hub.Options{QueueSize: 2})
	defer h.Close()
	client, _ := subscribedPipe(t, h, "x")
	publish(t, h, "x", starling.MessageText, "1")
	time.Sleep(2 * time.Millisecond) // the hub takes "1", and waits for the client
	for _, m := range []string{"2", "3", "4"} {
		publish(t, h, "x", starling.MessageText, m) // "4" overflows
	}
	var got []string
	for {
		_, p, err := client.Read(ctx)
		if err != nil {
			if code := starling.CloseStatus(err); code != starling.StatusPolicyViolation {
				t.Fatalf("the connection ended with %v, want 1008", err)
			}
			break
		}
		got = append(got, string(p))
	}
	if len(got) > 1 {
		t.Fatalf("the connection closed as slow got %q, want at most the message being written", got)
	}
	if st := h.Stats(); st.ClosedSlow != 1 {
		t.Fatalf("Stats = %+v, want one connection closed as slow", st)
	}
}

// subscribedPipe returns the two ends of a starlingtest.Pipe, the server's
// subscribed to topic on h. The pipe buffers nothing, so the hub's write
// of a message waits until the client reads it.
func subscribedPipe(t *testing.T, h *hub.Hub, topic string) (client, srv *starling.Conn) {
	t.Helper()
	client, srv, err := starlingtest.Pipe(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow(); srv.CloseNow() })
	if err := h.Subscribe(srv, topic); err != nil {
		t.Fatal(err)
	}
	return client, srv
}
