package natsbroker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/starling-ws/starling"
)

// TestPublishCancelled publishes with a context already ended: Publish
// reports it, and the message reaches no one.
func TestPublishCancelled(t *testing.T) {
	s := runNATS(t)
	n := startNode(t, s)
	c := n.join(t, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.h.Publish(ctx, "x", starling.MessageText, []byte("cancelled")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish with an ended context: got %v, want context.Canceled", err)
	}
	if err := n.h.Publish(context.Background(), "x", starling.MessageText, []byte("next")); err != nil {
		t.Fatal(err)
	}
	expect(t, c, starling.MessageText, "next")
}
