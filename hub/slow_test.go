package hub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// TestClosedSlowCounted publishes bursts to subscribers that read at
// different paces, some not at all, with a short queue: every connection
// the hub closes as slow gets 1008 and is counted in Stats.ClosedSlow, and
// no other is; every other gets every message; what each got keeps each
// publisher's order.
func TestClosedSlowCounted(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	h := hub.New(&hub.Options{QueueSize: 64})
	s := serveChurn(t, h)
	const subscribers, publishers, each = 6, 2, 300
	type result struct {
		got []msgID
		err error
	}
	results := make([]chan result, subscribers)
	clients := make([]*starling.Conn, subscribers)
	for i := range subscribers {
		c, sc, err := s.dial(rng)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Subscribe(sc, "x"); err != nil {
			t.Fatal(err)
		}
		clients[i] = c
		results[i] = make(chan result, 1)
		pause := time.Duration(i%3) * time.Millisecond // 0: fast, 1, 2: slow
		go func() {
			var got []msgID
			for {
				_, p, err := c.Read(context.Background())
				if err != nil {
					results[i] <- result{got, err}
					return
				}
				var id msgID
				fmt.Sscanf(string(p), "%s %d %d", &id.topic, &id.pub, &id.seq)
				if id.pub == -1 { // the end
					results[i] <- result{got, nil}
					return
				}
				got = append(got, id)
				time.Sleep(pause)
			}
		}()
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for seq := range each {
				typ, data := churnMessage("x", p, seq)
				if err := h.Publish(context.Background(), "x", typ, data); err != nil {
					t.Error(err)
				}
				time.Sleep(200 * time.Microsecond) // a pace the fast ones may keep
			}
		})
	}
	wg.Wait()
	// The subscribers still there get an end mark; the others ended with
	// 1008.
	typ, data := churnMessage("x", -1, 0)
	if err := h.Publish(context.Background(), "x", typ, data); err != nil {
		t.Fatal(err)
	}
	closedSlow := 0
	for i, ch := range results {
		r := <-ch
		switch {
		case starling.CloseStatus(r.err) == starling.StatusPolicyViolation:
			closedSlow++
		case r.err != nil:
			t.Fatalf("subscriber %d: %v", i, r.err)
		case len(r.got) != publishers*each:
			t.Fatalf("subscriber %d, never closed as slow, got %d messages of %d", i, len(r.got), publishers*each)
		}
		clients[i].Close(starling.StatusNormalClosure, "")
		next := make([]int, publishers)
		for _, m := range r.got {
			if m.topic != "x" || m.seq < next[m.pub] {
				t.Fatalf("subscriber %d: %v out of order", i, m)
			}
			next[m.pub] = m.seq + 1
		}
	}
	st := h.Stats()
	if st.ClosedSlow != int64(closedSlow) || st.Dropped != 0 {
		t.Fatalf("Stats = %+v, but %d subscribers got 1008", st, closedSlow)
	}
	t.Logf("%d of %d closed as slow; %+v", closedSlow, subscribers, st)
}
