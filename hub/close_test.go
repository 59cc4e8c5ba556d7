package hub_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// TestCloseWhilePublishing closes a hub while goroutines publish and
// subscribe: each call returns nil or ErrClosed, nothing panics or hangs,
// the hub ends empty, and the connections stay open and intact.
func TestCloseWhilePublishing(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	h := hub.New(&hub.Options{QueueSize: 1 << 12})
	s := serveChurn(t, h)
	type end struct{ c, sc *starling.Conn }
	var ends []end
	var readers sync.WaitGroup
	// Each reader ends once it has read the message written after Close
	// (of publisher -1).
	for range 6 {
		c, sc, err := s.dial(rng)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end{c, sc})
		readers.Go(func() {
			got, err := record(c, 1)
			if err != nil {
				t.Error(err)
			} else if slices.IndexFunc(got, func(m msgID) bool { return m.topic == "after" }) < len(got)-1 {
				t.Errorf("the message written after Close did not arrive: %v", got[max(len(got)-5, 0):])
			}
		})
	}
	names := []string{"a", "b"}
	var wg sync.WaitGroup
	for p := range 3 {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				name := names[seq%2]
				typ, data := churnMessage(name, p, seq)
				err := h.Publish(context.Background(), name, typ, data)
				if errors.Is(err, hub.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for _, e := range ends {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := h.Subscribe(e.sc, names[i%2])
				if errors.Is(err, hub.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					h.Leave(e.sc)
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, name := range names {
		if n := h.Subscribers(name); n != 0 {
			t.Errorf("Subscribers(%s) = %d after Close", name, n)
		}
	}
	// The connections are still open: a message written after Close
	// arrives whole.
	for _, e := range ends {
		typ, data := churnMessage("after", -1, 0)
		if err := e.sc.Write(context.Background(), typ, data); err != nil {
			t.Fatalf("writing after Close: %v", err)
		}
	}
	readers.Wait()
	for _, e := range ends {
		e.c.Close(starling.StatusNormalClosure, "")
	}
	t.Logf("%+v", h.Stats())
}
