package starling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestGroupShutdownEndedContextNothingToDrop calls Shutdown with a
// context that has already ended on groups with nothing to drop: one
// never used, and one whose connections all closed themselves. Shutdown
// returns ctx's error only if it had to drop a connection.
func TestGroupShutdownEndedContextNothingToDrop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 100 {
		var g starling.Group
		if err := g.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown %d of an empty group under an ended context = %v, want nil", i, err)
		}
	}
}

// TestGroupShutdownRaces shuts a group down while connections are being
// accepted, while others close themselves, and twice at once: every
// connection ends, none stays in the group, Accept refuses the late ones,
// and each Shutdown returns nil as every peer answers.
func TestGroupShutdownRaces(t *testing.T) {
	checkGoroutines(t)
	var group starling.Group
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Group: &group})
		if err != nil {
			return // refused while shutting down
		}
		defer c.CloseNow()
		if r.URL.Query().Has("self") {
			c.Close(starling.StatusNormalClosure, "leaving")
			return
		}
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	const n = 20
	var clients sync.WaitGroup
	for i := range n {
		clients.Add(1)
		go func() {
			defer clients.Done()
			url := wsURL(srv)
			if i%2 == 0 {
				url += "?self"
			}
			c, _, err := starling.Dial(context.Background(), url, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // some accepted, some not yet
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- group.Shutdown(ctx) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Shutdown = %v, want nil: every peer answers", err)
		}
	}
	clients.Wait()
	handlers.Wait()
	if n := group.Len(); n != 0 {
		t.Fatalf("group holds %d connections after Shutdown", n)
	}
}

// TestGroupShutdownContextCause drops a peer that never answers under a
// context canceled with a cause: Shutdown reports both.
func TestGroupShutdownContextCause(t *testing.T) {
	var group starling.Group
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := starling.Accept(w, r, &starling.AcceptOptions{Group: &group}); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	c, _, err := starling.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() // never reads, so never answers the close frame
	for group.Len() < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, stop := canceledLater(100 * time.Millisecond)
	defer stop()
	err = group.Shutdown(ctx)
	checkCtxError(t, "Shutdown", err)
	if n := group.Len(); n != 0 {
		t.Fatalf("group holds %d connections after Shutdown", n)
	}
}
