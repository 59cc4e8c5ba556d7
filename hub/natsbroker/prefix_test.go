package natsbroker_test

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/hub/natsbroker"
)

// TestBadPrefix gives a Broker prefixes that are no NATS subject, or
// wildcards, which would subscribe a hub to other applications' topics or
// make the NATS server close the connection, shared with the rest of the
// program: Subscribe and Publish refuse them, and the connection stays up.
func TestBadPrefix(t *testing.T) {
	s := runNATS(t)
	nc := connect(t, s)
	for _, prefix := range []string{"app.>", "app.*", "*", "my app", "a..b", ".a", "a\tb"} {
		b := natsbroker.New(nc, &natsbroker.Options{Prefix: prefix})
		if cancel, err := b.Subscribe("x", func(hub.Message) {}); err == nil {
			cancel()
			t.Errorf("prefix %q: Subscribe accepted it", prefix)
		}
		if err := b.Publish(context.Background(), "x", hub.Message{Data: []byte("hi")}); err == nil {
			t.Errorf("prefix %q: Publish accepted it", prefix)
		}
		if err := nc.Flush(); err != nil {
			t.Fatalf("prefix %q: the NATS connection failed: %v", prefix, err)
		}
	}
	// A good prefix still works on the same connection.
	b := natsbroker.New(nc, &natsbroker.Options{Prefix: "app.one"})
	got := make(chan hub.Message, 1)
	cancel, err := b.Subscribe("x", func(m hub.Message) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if err := b.Publish(context.Background(), "x", hub.Message{Data: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Data) != "hi" {
			t.Fatalf("got %q", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message did not arrive")
	}
}
