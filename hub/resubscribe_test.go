package hub_test

import (
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// TestSubscribeAgainAfterTopicEmptied empties a topic, which ends its
// subscription at the broker, and subscribes to it again: the hub must
// subscribe at the broker anew, or the topic's messages never arrive.
func TestSubscribeAgainAfterTopicEmptied(t *testing.T) {
	for _, tc := range []struct {
		name  string
		empty func(h *hub.Hub, c *starling.Conn)
	}{
		{"Unsubscribe", func(h *hub.Hub, c *starling.Conn) { h.Unsubscribe(c, "x") }},
		{"Leave", func(h *hub.Hub, c *starling.Conn) { h.Leave(c) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broker := &memoryBroker{}
			h := hub.New(&hub.Options{Broker: broker})
			defer h.Close()
			a, sa := serve(t, h).dial(t, "")
			for i, m := range []string{"first", "again"} {
				if err := h.Subscribe(sa, "x"); err != nil {
					t.Fatal(err)
				}
				if n := broker.subscriptions(); n != 1 {
					t.Fatalf("subscription %d: %d subscriptions at the broker, want 1", i+1, n)
				}
				publish(t, h, "x", starling.MessageText, m)
				expect(t, a, starling.MessageText, m)
				tc.empty(h, sa)
				if n := broker.subscriptions(); n != 0 {
					t.Fatalf("%d subscriptions at the broker once x has no subscriber, want 0", n)
				}
			}
		})
	}
}
