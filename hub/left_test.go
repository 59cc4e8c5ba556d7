package hub

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/starlingtest"
)

// TestLeftForgotten checks that a hub keeps nothing of a connection that
// left while the hub was writing to it, once the write is over: a server
// sees many connections come and go, and must not keep each one.
func TestLeftForgotten(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *Hub, client, srv *starling.Conn)
	}{
		{"failed write", func(h *Hub, client, srv *starling.Conn) { client.CloseNow() }},
		{"Leave", func(h *Hub, client, srv *starling.Conn) {
			time.Sleep(2 * time.Millisecond) // the hub takes the message, and waits for the client
			h.Leave(srv)
			client.Read(context.Background()) // lets the write end
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := New(nil)
			client, srv, err := starlingtest.Pipe(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.CloseNow()
			defer srv.CloseNow()
			if err := h.Subscribe(srv, "x"); err != nil {
				t.Fatal(err)
			}
			if err := h.Publish(ctx, "x", starling.MessageText, []byte("m")); err != nil {
				t.Fatal(err)
			}
			tc.end(h, client, srv)
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				h.mu.RLock()
				conns, left, topics := len(h.conns), len(h.left), len(h.topics)
				h.mu.RUnlock()
				if conns+left+topics == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the hub still holds %d connections, %d that left, %d topics", conns, left, topics)
				}
			}
		})
	}
}
