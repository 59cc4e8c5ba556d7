package starling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

func TestCloseReadAnswersPingsAndRefusesData(t *testing.T) {
	checkGoroutines(t)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		ctx := c.CloseRead(context.Background())
		if err := c.Write(ctx, starling.MessageText, []byte("tick")); err != nil {
			t.Error(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Error("CloseRead's context did not end when the connection failed")
		}
	}))
	t.Cleanup(srv.Close)

	c, _, err := starling.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, p, err := c.Read(context.Background()); err != nil || string(p) != "tick" {
		t.Fatalf("Read = %q, %v", p, err)
	}
	// The server answers pings though its handler never reads.
	pinged := make(chan error, 1)
	go func() {
		_, err := c.Ping(context.Background())
		pinged <- err
	}()
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		readErr <- err
	}()
	if err := <-pinged; err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// Data is a policy violation for a write-only endpoint.
	if err := c.Write(context.Background(), starling.MessageText, []byte("hello?")); err != nil {
		t.Fatal(err)
	}
	if got := starling.CloseStatus(<-readErr); got != starling.StatusPolicyViolation {
		t.Fatalf("client saw status %v, want 1008", got)
	}
	<-done
}
