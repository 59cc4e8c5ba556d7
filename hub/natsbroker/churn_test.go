package natsbroker_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// dialNode connects to n's endpoint for topic, and waits until subscribed.
func dialNode(n *node, topic string) (*starling.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, n.url+"/?topic="+topic, nil)
	if err != nil {
		return nil, err
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "subscribed" {
		c.CloseNow()
		return nil, fmt.Errorf("not subscribed: %q, %v", p, err)
	}
	return c, nil
}

// readAll reads c's text messages until it fails, or until it reads last.
func readAll(c *starling.Conn, last string) []string {
	var got []string
	for {
		_, p, err := c.Read(context.Background())
		if err != nil {
			return got
		}
		got = append(got, string(p))
		if string(p) == last {
			return got
		}
	}
}

// inOrder checks that got holds each publisher's messages ("p-i") in the
// order published.
func inOrder(got []string) error {
	next := map[string]int{}
	for _, m := range got {
		var from string
		var i int
		if _, err := fmt.Sscanf(m, "%1s-%d", &from, &i); err != nil {
			return fmt.Errorf("unreadable message %q", m)
		}
		if i < next[from] {
			return fmt.Errorf("%s after %s-%d", m, from, next[from]-1)
		}
		next[from] = i + 1
	}
	return nil
}

// TestChurnAcrossServers publishes from two hubs on one NATS server while
// connections join and leave both at random, on a topic with subscribers
// throughout (x) and one with none but those that come and go (y), whose
// NATS subscriptions come and go with them. Each sees each publisher's
// order; on x, each hub's subscribers see one order, which those that
// come and go see a part of.
func TestChurnAcrossServers(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	const each = 500 // the queues (1024) hold all of x
	s := runNATS(t)
	nodes := []*node{startNode(t, s), startNode(t, s)}
	// The subscribers of x throughout read until both hubs' end marks.
	var stable [2][]chan []string
	for i, n := range nodes {
		for range 2 {
			c, err := dialNode(n, "x")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.CloseNow() })
			done := make(chan []string, 1)
			go func() {
				got := readAll(c, "e-0")
				done <- append(got, readAll(c, "e-0")...)
			}()
			stable[i] = append(stable[i], done)
		}
	}
	var mu sync.Mutex
	type churned struct {
		hub   int
		topic string
		got   []string
	}
	var all []churned
	stop := make(chan struct{})
	var churn sync.WaitGroup
	for w := range 4 {
		churn.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				hub, topic := rng.IntN(2), []string{"x", "y"}[rng.IntN(2)]
				c, err := dialNode(nodes[hub], topic)
				if err != nil {
					t.Error(err)
					return
				}
				done := make(chan []string, 1)
				go func() { done <- readAll(c, "") }()
				time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
				if rng.IntN(2) == 0 {
					c.CloseNow()
				} else {
					c.Close(starling.StatusNormalClosure, "")
				}
				c.CloseNow()
				mu.Lock()
				all = append(all, churned{hub, topic, <-done})
				mu.Unlock()
			}
		})
	}
	ctx := context.Background()
	var pubs sync.WaitGroup
	for p, n := range nodes {
		pubs.Go(func() {
			for i := range each {
				for _, topic := range []string{"x", "y"} {
					if err := n.h.Publish(ctx, topic, starling.MessageText, fmt.Appendf(nil, "%d-%d", p, i)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	pubs.Wait()
	close(stop)
	churn.Wait()
	for _, n := range nodes {
		if err := n.h.Publish(ctx, "x", starling.MessageText, []byte("e-0")); err != nil {
			t.Fatal(err)
		}
	}
	var orders [2][]string
	for hub, cs := range stable {
		for i, done := range cs {
			got := <-done
			got = slices.DeleteFunc(got, func(m string) bool { return m == "e-0" })
			if len(got) != 2*each {
				st := nodes[hub].h.Stats()
				t.Fatalf("hub %d, subscriber %d: %d messages, want %d; %+v", hub, i, len(got), 2*each, st)
			}
			if err := inOrder(got); err != nil {
				t.Fatalf("hub %d, subscriber %d: %v", hub, i, err)
			}
			if i == 0 {
				orders[hub] = got
			} else if !slices.Equal(got, orders[hub]) {
				t.Fatalf("hub %d: its subscribers saw different orders", hub)
			}
		}
	}
	for i, ch := range all {
		if err := inOrder(ch.got); err != nil {
			t.Fatalf("churned subscriber %d (hub %d, %s): %v", i, ch.hub, ch.topic, err)
		}
		if ch.topic != "x" {
			continue
		}
		j := 0
		for _, m := range ch.got {
			for j < len(orders[ch.hub]) && orders[ch.hub][j] != m {
				j++
			}
			if j == len(orders[ch.hub]) {
				t.Fatalf("churned subscriber %d (hub %d): %s out of its hub's order", i, ch.hub, m)
			}
		}
	}
	t.Logf("%d churned connections", len(all))
}
