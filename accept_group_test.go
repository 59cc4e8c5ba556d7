package starling

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestAcceptAfterGroupShutdown checks a connection accepted after its
// Group's Shutdown: Accept reports ErrClosed, and the client, already
// answered 101, is told with a close frame that the server is going away
// (1001), as Group.Shutdown documents, instead of being left waiting.
func TestAcceptAfterGroupShutdown(t *testing.T) {
	var g Group
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := newAcceptServer(t, &AcceptOptions{Group: &g}, nil)
	c, _, err := Dial(dialCtx(t), "ws://"+s.Listener.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(dialCtx(t))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != StatusGoingAway || !strings.Contains(ce.Reason, "shutting down") {
		t.Errorf("client Read: %v, want a close with 1001 saying the server is shutting down", err)
	}
	if r := s.result(t); r.c != nil || !errors.Is(r.err, ErrClosed) {
		t.Errorf("Accept = %v, %v; want ErrClosed", r.c != nil, r.err)
	}
}
