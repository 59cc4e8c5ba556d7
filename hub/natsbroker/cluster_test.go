package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/starling-ws/starling"
)

// runCluster starts two NATS servers on loopback joined by a route, and
// waits until they are.
func runCluster(t *testing.T) (a, b *server.Server) {
	t.Helper()
	start := func(routes string) *server.Server {
		opts := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: -1}}
		if routes != "" {
			opts.Routes = server.RoutesFromStr(routes)
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			stopNATS(s)
			t.Fatal("the NATS server did not start")
		}
		t.Cleanup(func() { stopNATS(s) })
		return s
	}
	a = start("")
	b = start(fmt.Sprintf("nats://127.0.0.1:%d", a.ClusterAddr().Port))
	waitFor(t, "the route", func() bool { return a.NumRoutes() > 0 && b.NumRoutes() > 0 })
	return a, b
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestClusterKeepsEachHubsOrder publishes from the hubs of two servers,
// each on its own NATS server of a cluster, and from a plain NATS client.
// Every subscriber gets every message; the subscribers of one hub all see
// one order; every subscriber sees each publisher's order.
func TestClusterKeepsEachHubsOrder(t *testing.T) {
	const each = 200
	na, nb := runCluster(t)
	n1, n2 := startNode(t, na), startNode(t, nb)
	clients := [][]*starling.Conn{{n1.join(t, "x"), n1.join(t, "x")}, {n2.join(t, "x"), n2.join(t, "x")}}
	// Each server has a subscription of each hub.
	for _, s := range []*server.Server{na, nb} {
		waitFor(t, "the subscriptions to spread", func() bool { return s.GlobalAccount().Interest("starling.x") == 2 })
	}
	plain := connect(t, na)
	ctx := context.Background()
	var wg sync.WaitGroup
	for p, publish := range []func(int) error{
		func(i int) error { return n1.h.Publish(ctx, "x", starling.MessageText, fmt.Appendf(nil, "0-%d", i)) },
		func(i int) error { return n2.h.Publish(ctx, "x", starling.MessageText, fmt.Appendf(nil, "1-%d", i)) },
		func(i int) error { return plain.Publish("starling.x", fmt.Appendf(nil, "2-%d", i)) },
	} {
		wg.Go(func() {
			for i := range each {
				if err := publish(i); err != nil {
					t.Errorf("publisher %d: %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for hi, cs := range clients {
		var first []string
		for ci, c := range cs {
			got, err := readN(c, 3*each)
			if err != nil {
				t.Fatalf("hub %d, subscriber %d: %v after %d messages", hi, ci, err, len(got))
			}
			next := make([]int, 3)
			for _, m := range got {
				var from, i int
				fmt.Sscanf(m, "%d-%d", &from, &i)
				if i != next[from] {
					t.Fatalf("hub %d, subscriber %d: got %s, want %d-%d", hi, ci, m, from, next[from])
				}
				next[from]++
			}
			if ci == 0 {
				first = got
			} else if !slices.Equal(got, first) {
				t.Fatalf("hub %d: its subscribers saw different orders", hi)
			}
		}
	}
}

// readN reads n text messages from c.
func readN(c *starling.Conn, n int) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []string
	for range n {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return got, err
		}
		if typ != starling.MessageText {
			return got, errors.New("a binary message")
		}
		got = append(got, string(p))
	}
	return got, nil
}

// TestSubscribedBeforeSubscribeReturns publishes through one hub as soon
// as a hub on the same NATS server has subscribed a connection: Subscribe
// returned, so the message must reach it (hub.Broker's promise). In a
// cluster, the other NATS servers learn of a subscription a moment later,
// which the package documents.
func TestSubscribedBeforeSubscribeReturns(t *testing.T) {
	s := runNATS(t)
	n1, n2 := startNode(t, s), startNode(t, s)
	ctx := context.Background()
	for i := range 100 {
		topic := fmt.Sprintf("r%d", i)
		c := n2.join(t, topic) // returns once Subscribe has
		for _, m := range []string{"first", "second"} {
			if err := n1.h.Publish(ctx, topic, starling.MessageText, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := readN(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != "first" {
			t.Fatalf("topic %d: the first message published after Subscribe returned was lost", i)
		}
		c.CloseNow()
	}
}
