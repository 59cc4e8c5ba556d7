package hub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// churnServer accepts WebSocket connections with permessage-deflate and a
// compression threshold chosen by each client (query "thr"), hands each to
// the dialer that asked for it (query "id"), reads it until it ends and
// then makes it leave the hub.
type churnServer struct {
	url      string
	mu       sync.Mutex
	waiting  map[string]chan *starling.Conn
	next     int
	accepted []*starling.Conn
}

func serveChurn(t *testing.T, h *hub.Hub) *churnServer {
	t.Helper()
	s := &churnServer{waiting: make(map[string]chan *starling.Conn)}
	var wg sync.WaitGroup
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		thr, _ := strconv.Atoi(r.URL.Query().Get("thr"))
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: thr},
		})
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		defer h.Leave(c)
		s.mu.Lock()
		if ch := s.waiting[r.URL.Query().Get("id")]; ch != nil { // else the dialer gave up
			ch <- c
		}
		s.accepted = append(s.accepted, c)
		s.mu.Unlock()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		ts.Close()
		s.mu.Lock()
		for _, c := range s.accepted { // a test that failed may have left some
			c.CloseNow()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	s.url = "ws" + strings.TrimPrefix(ts.URL, "http")
	return s
}

// dial connects a client with compression settings drawn from rng, and
// returns it with the server's side of the connection.
func (s *churnServer) dial(rng *rand.Rand) (client, server *starling.Conn, err error) {
	s.mu.Lock()
	s.next++
	id := strconv.Itoa(s.next)
	ch := make(chan *starling.Conn, 1)
	s.waiting[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, id)
		s.mu.Unlock()
	}()
	var opts starling.DialOptions
	switch rng.IntN(3) {
	case 1:
		opts.Compression = starling.CompressionOptions{
			Mode:                starling.CompressionContextTakeover,
			ServerMaxWindowBits: 8 + rng.IntN(8),
			ClientMaxWindowBits: 8 + rng.IntN(8),
		}
	case 2:
		opts.Compression = starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover}
	}
	thr := []int{-1, 0, 64, 1024}[rng.IntN(4)]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, fmt.Sprintf("%s/?id=%s&thr=%d", s.url, id, thr), &opts)
	if err != nil {
		return nil, nil, err
	}
	select {
	case sc := <-ch:
		return c, sc, nil
	case <-ctx.Done():
		c.CloseNow()
		return nil, nil, errors.New("the server did not accept the connection")
	}
}

// churnMessage is the message publisher pub publishes as its seq-th on
// topic: a header naming it, then a body of a length and content drawn
// from those, compressible in part; binary bodies are not UTF-8.
func churnMessage(topic string, pub, seq int) (starling.MessageType, []byte) {
	rng := rand.New(rand.NewPCG(uint64(pub), uint64(seq)))
	b := fmt.Appendf(nil, "%s %d %d\n", topic, pub, seq)
	n := rng.IntN(3000)
	if seq%2 == 0 {
		for len(b) < n {
			b = append(b, []string{"quote ", "é€", "😀", strconv.Itoa(rng.IntN(100))}[rng.IntN(4)]...)
		}
		return starling.MessageText, b
	}
	for len(b) < n {
		b = append(b, 0xff, byte(rng.IntN(4)), 'x', 'y')
	}
	return starling.MessageBinary, b
}

// msgID names a published message.
type msgID struct {
	topic    string
	pub, seq int
}

// record reads c until it fails, or until it has read markers messages of
// publisher -1 if markers is not 0, checks that each message is intact,
// and returns the names of what it read.
func record(c *starling.Conn, markers int) ([]msgID, error) {
	var got []msgID
	for {
		typ, p, err := c.Read(context.Background())
		if err != nil {
			return got, nil
		}
		var id msgID
		head, _, _ := bytes.Cut(p, []byte("\n"))
		if _, err := fmt.Sscanf(string(head), "%s %d %d", &id.topic, &id.pub, &id.seq); err != nil {
			return got, fmt.Errorf("unreadable message %.40q: %v", p, err)
		}
		if wantTyp, want := churnMessage(id.topic, id.pub, id.seq); typ != wantTyp || !bytes.Equal(p, want) {
			return got, fmt.Errorf("message %v arrived changed (%v, %d bytes)", id, typ, len(p))
		}
		got = append(got, id)
		if id.pub == -1 {
			if markers--; markers == 0 {
				return got, nil
			}
		}
	}
}

// checkSubsequence reports whether got's messages of topic appear in all
// in the same order.
func checkSubsequence(got []msgID, topic string, all []msgID) error {
	i := 0
	for _, m := range got {
		if m.topic != topic {
			continue
		}
		for i < len(all) && all[i] != m {
			i++
		}
		if i == len(all) {
			return fmt.Errorf("%v is out of the topic's order, or was never published", m)
		}
		i++
	}
	return nil
}

// TestChurnKeepsEachTopicsOrder publishes from several goroutines on
// several topics while connections with mixed compression settings
// subscribe, unsubscribe, leave, close from either side and reconnect at
// random. Subscribers that stay throughout must each see every message of
// their topics in one same order, which keeps each publisher's order; the
// others must see a subsequence of it; every message must arrive intact.
func TestChurnKeepsEachTopicsOrder(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	const topics, publishers, each, stable, churners = 3, 4, 500, 3, 6
	h := hub.New(&hub.Options{QueueSize: 1 << 14}) // nobody is slow
	s := serveChurn(t, h)
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("t%d", i)
	}

	var readers sync.WaitGroup
	type reading struct {
		got []msgID
		err error
	}
	read := func(c *starling.Conn, markers int) chan reading {
		done := make(chan reading, 1)
		readers.Go(func() {
			got, err := record(c, markers)
			done <- reading{got, err}
		})
		return done
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	var stableClients []*starling.Conn
	var stableReads []chan reading
	for range stable {
		c, sc, err := s.dial(rng)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Subscribe(sc, names...); err != nil {
			t.Fatal(err)
		}
		stableClients = append(stableClients, c)
		stableReads = append(stableReads, read(c, topics))
	}

	var mu sync.Mutex
	var churned []reading // filled once each churner's reader ends
	var published [topics]int
	stop := make(chan struct{})
	var churn sync.WaitGroup
	for w := range churners {
		churn.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w+1)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, sc, err := s.dial(rng)
				if err != nil {
					t.Error(err)
					return
				}
				done := read(c, 0)
				churnOne(t, rng, h, c, sc, names, stop)
				r := <-done
				mu.Lock()
				churned = append(churned, r)
				mu.Unlock()
			}
		})
	}

	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(100+p)))
			for seq := range each {
				topic := rng.IntN(topics)
				typ, data := churnMessage(names[topic], p, seq)
				if err := h.Publish(context.Background(), names[topic], typ, data); err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				published[topic]++
				mu.Unlock()
			}
		})
	}
	pubs.Wait()
	close(stop)
	churn.Wait()

	// A last message on each topic marks the end for the stable
	// subscribers.
	for _, name := range names {
		typ, data := churnMessage(name, -1, 0)
		if err := h.Publish(context.Background(), name, typ, data); err != nil {
			t.Fatal(err)
		}
	}
	var orders [topics][]msgID
	for i, done := range stableReads {
		r := <-done
		stableClients[i].Close(starling.StatusNormalClosure, "")
		if r.err != nil {
			t.Fatalf("stable subscriber %d: %v", i, r.err)
		}
		for ti, name := range names {
			var mine []msgID
			for _, m := range r.got {
				if m.topic == name && m.pub >= 0 {
					mine = append(mine, m)
				}
			}
			if len(mine) != published[ti] {
				t.Fatalf("stable subscriber %d got %d messages on %s, want all %d", i, len(mine), name, published[ti])
			}
			if i == 0 {
				orders[ti] = mine
			} else if !slices.Equal(mine, orders[ti]) {
				t.Fatalf("stable subscribers 0 and %d saw %s in different orders", i, name)
			}
		}
	}
	for ti, order := range orders {
		next := make([]int, publishers)
		for _, m := range order {
			if m.seq < next[m.pub] {
				t.Fatalf("%s: publisher %d's message %d after its %d", names[ti], m.pub, m.seq, next[m.pub]-1)
			}
			next[m.pub] = m.seq + 1
		}
	}
	for i, r := range churned {
		if r.err != nil {
			t.Fatalf("churned subscriber %d: %v", i, r.err)
		}
		for ti, name := range names {
			if err := checkSubsequence(r.got, name, orders[ti]); err != nil {
				var at []int // where each message it got stands in the order
				for _, m := range r.got {
					if m.topic == name {
						at = append(at, slices.Index(orders[ti], m))
					}
				}
				t.Fatalf("churned subscriber %d on %s: %v; it got the topic's messages %v", i, name, err, at)
			}
		}
	}
	readers.Wait()
	st := h.Stats()
	total := int64(topics)
	for _, n := range published {
		total += int64(n)
	}
	if st.Messages != total || st.Dropped != 0 || st.ClosedSlow != 0 || st.Queued < total*stable || st.Refused != 0 {
		t.Fatalf("Stats = %+v after %d messages to at least %d subscribers each", st, total, stable)
	}
	t.Logf("%d churned connections; %+v", len(churned), st)
}

// churnOne subscribes, unsubscribes and leaves with one connection at
// random, and ends it from one side or the other.
func churnOne(t *testing.T, rng *rand.Rand, h *hub.Hub, c, sc *starling.Conn, names []string, stop chan struct{}) {
loop:
	for range rng.IntN(20) {
		select {
		case <-stop:
			break loop
		default:
		}
		name := names[rng.IntN(len(names))]
		switch rng.IntN(4) {
		case 0, 1:
			if err := h.Subscribe(sc, name); err != nil {
				t.Error(err)
			}
		case 2:
			h.Unsubscribe(sc, name)
		case 3:
			h.Leave(sc)
		}
		time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
	}
	switch rng.IntN(4) {
	case 0:
		c.Close(starling.StatusNormalClosure, "")
	case 1:
		c.CloseNow()
	case 2:
		sc.Close(starling.StatusGoingAway, "")
	case 3:
		sc.CloseNow()
	}
	// The server's side must be gone too for the reader to end.
	sc.CloseNow()
}
