package hub_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/internal/leakcheck"
	"github.com/starling-ws/starling/starlingtest"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// server is a WebSocket server on loopback that hands each connection it
// accepts to the test, reads it until it ends, publishes what it reads on
// the topic named by the "pub" query parameter, and then makes the
// connection leave the hub (unless "noleave" is set).
type server struct {
	url      string
	accepted chan *starling.Conn
}

func serve(t *testing.T, h *hub.Hub) *server {
	t.Helper()
	s := &server{accepted: make(chan *starling.Conn, 16)}
	var wg sync.WaitGroup
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		if r.URL.Query().Get("noleave") == "" {
			defer h.Leave(c)
		}
		s.accepted <- c
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if pub := r.URL.Query().Get("pub"); pub != "" {
				if err := h.Publish(context.Background(), pub, typ, p); err != nil {
					t.Errorf("Publish: %v", err)
				}
			}
		}
	}))
	t.Cleanup(func() {
		ts.Close()
		wg.Wait()
	})
	s.url = "ws" + strings.TrimPrefix(ts.URL, "http")
	return s
}

// dial connects a client with the given query, and returns it with the
// server's side of the connection.
func (s *server) dial(t *testing.T, query string) (client, server *starling.Conn) {
	t.Helper()
	return s.dialWith(t, query, nil)
}

// dialWith is dial with the client's options.
func (s *server) dialWith(t *testing.T, query string, opts *starling.DialOptions) (client, server *starling.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, s.url+"/?"+query, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	select {
	case sc := <-s.accepted:
		return c, sc
	case <-ctx.Done():
		t.Fatal("the server did not accept the connection")
		return nil, nil
	}
}

// expect reads the next message of c and checks it.
func expect(t *testing.T, c *starling.Conn, typ starling.MessageType, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading %q: %v", want, err)
	}
	if gotTyp != typ || string(got) != want {
		t.Fatalf("got %v %q, want %v %q", gotTyp, got, typ, want)
	}
}

func publish(t *testing.T, h *hub.Hub, topic string, typ starling.MessageType, data string) {
	t.Helper()
	if err := h.Publish(context.Background(), topic, typ, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// eventually waits until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func TestPublishReachesTheTopicsSubscribers(t *testing.T) {
	h := hub.New(nil)
	s := serve(t, h)
	a, sa := s.dial(t, "")
	b, sb := s.dial(t, "")
	c, sc := s.dial(t, "")
	for _, sub := range []struct {
		conn   *starling.Conn
		topics []string
	}{{sa, []string{"x"}}, {sb, []string{"x", "y"}}, {sc, []string{"y", "y"}}} {
		if err := h.Subscribe(sub.conn, sub.topics...); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.Subscribers("x"); n != 2 {
		t.Errorf("Subscribers(x) = %d, want 2", n)
	}
	if n := h.Subscribers("y"); n != 2 {
		t.Errorf("Subscribers(y) = %d, want 2 (subscribing twice counts once)", n)
	}

	publish(t, h, "x", starling.MessageText, "one")
	publish(t, h, "y", starling.MessageBinary, "two")
	publish(t, h, "z", starling.MessageText, "nobody") // no subscriber: dropped
	publish(t, h, "x", starling.MessageText, "three")
	publish(t, h, "y", starling.MessageText, "four")

	expect(t, a, starling.MessageText, "one")
	expect(t, a, starling.MessageText, "three")
	expect(t, b, starling.MessageText, "one")
	expect(t, b, starling.MessageBinary, "two")
	expect(t, b, starling.MessageText, "three")
	expect(t, b, starling.MessageText, "four")
	expect(t, c, starling.MessageBinary, "two")
	expect(t, c, starling.MessageText, "four")
	// The message to z reached no one, so it was never fanned out.
	if st := h.Stats(); st != (hub.Stats{Messages: 4, Queued: 8}) {
		t.Errorf("Stats = %+v, want 4 messages, 8 copies queued", st)
	}
}

func TestEverySubscriberSeesOneOrder(t *testing.T) {
	const subscribers, publishers, each = 4, 4, 200
	h := hub.New(&hub.Options{QueueSize: publishers * each})
	s := serve(t, h)
	clients := make([]*starling.Conn, subscribers)
	for i := range clients {
		var sc *starling.Conn
		clients[i], sc = s.dial(t, "")
		if err := h.Subscribe(sc, "x"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := h.Publish(context.Background(), "x", starling.MessageText, fmt.Appendf(nil, "%d-%d", p, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var first []string
	for i, c := range clients {
		var got []string
		for range publishers * each {
			_, p, err := c.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(p))
		}
		if i == 0 {
			first = got
			continue
		}
		if !slices.Equal(got, first) {
			t.Fatalf("subscriber %d saw another order than subscriber 0", i)
		}
	}
	// Each publisher's messages arrive in the order it published them.
	next := make([]int, publishers)
	for _, m := range first {
		var p, i int
		fmt.Sscanf(m, "%d-%d", &p, &i)
		if i != next[p] {
			t.Fatalf("got %s, want %d-%d", m, p, next[p])
		}
		next[p]++
	}
}

func TestUnsubscribeAndLeave(t *testing.T) {
	h := hub.New(nil)
	s := serve(t, h)
	a, sa := s.dial(t, "")
	if err := h.Subscribe(sa, "x", "y"); err != nil {
		t.Fatal(err)
	}
	h.Unsubscribe(sa, "x", "never-subscribed")
	if n := h.Subscribers("x"); n != 0 {
		t.Errorf("Subscribers(x) = %d after Unsubscribe, want 0", n)
	}
	publish(t, h, "x", starling.MessageText, "gone")
	publish(t, h, "y", starling.MessageText, "still here")
	expect(t, a, starling.MessageText, "still here")

	// The server's handler leaves the hub when the connection ends.
	a.Close(starling.StatusNormalClosure, "")
	eventually(t, "the closed connection left the hub", func() bool { return h.Subscribers("y") == 0 })
}

func TestLeaveThenSubscribeAgain(t *testing.T) {
	h := hub.New(nil)
	s := serve(t, h)
	_, sa := s.dial(t, "")
	if err := h.Subscribe(sa, "x"); err != nil {
		t.Fatal(err)
	}
	h.Leave(sa)
	h.Leave(sa) // a second Leave changes nothing
	if n := h.Subscribers("x"); n != 0 {
		t.Fatalf("Subscribers(x) = %d after Leave, want 0", n)
	}
	// Subscribing again after Leave works.
	b, sb := s.dial(t, "")
	if err := h.Subscribe(sb, "x"); err != nil {
		t.Fatal(err)
	}
	if err := h.Subscribe(sa, "x"); err != nil {
		t.Fatal(err)
	}
	publish(t, h, "x", starling.MessageText, "again")
	expect(t, b, starling.MessageText, "again")
}

// bigMessage is a message large enough that a connection that stops
// reading soon fills the socket buffers, numbered by its first 8 bytes.
func bigMessage(i int) []byte {
	p := make([]byte, 256<<10)
	binary.BigEndian.PutUint64(p, uint64(i))
	return p
}

// publishUntil publishes numbered big messages on x, each once fast has
// received the one before, until done holds or max were sent; it returns
// how many it sent.
func publishUntil(t *testing.T, h *hub.Hub, fast *starling.Conn, max int, done func() bool) int {
	t.Helper()
	for i := range max {
		if done() {
			return i
		}
		if err := h.Publish(context.Background(), "x", starling.MessageBinary, bigMessage(i)); err != nil {
			t.Fatal(err)
		}
		_, p, err := fast.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint64(p); got != uint64(i) {
			t.Fatalf("fast subscriber got message %d, want %d", got, i)
		}
	}
	return max
}

// fastAndSlow returns two clients subscribed to x on h: one the test reads
// from as it publishes, one it leaves unread.
func fastAndSlow(t *testing.T, h *hub.Hub) (fast, slow *starling.Conn) {
	t.Helper()
	s := serve(t, h)
	// The slow client's socket takes little, so that what it leaves
	// unread soon fills the server's socket whatever the machine's
	// buffer sizes.
	small := &starling.DialOptions{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = nc.(*net.TCPConn).SetReadBuffer(32 << 10)
		}
		return nc, err
	}}
	for _, c := range []struct {
		conn **starling.Conn
		opts *starling.DialOptions
	}{{&fast, nil}, {&slow, small}} {
		var sc *starling.Conn
		*c.conn, sc = s.dialWith(t, "", c.opts)
		if err := h.Subscribe(sc, "x"); err != nil {
			t.Fatal(err)
		}
	}
	return fast, slow
}

func TestSlowSubscriberIsClosedWith1008(t *testing.T) {
	// The default, and an Overflow value of no meaning, which defaults too.
	for _, overflow := range []hub.Overflow{hub.CloseSlow, 7} {
		t.Run(fmt.Sprint(int(overflow)), func(t *testing.T) {
			testCloseSlow(t, hub.New(&hub.Options{QueueSize: 4, Overflow: overflow}))
		})
	}
}

func testCloseSlow(t *testing.T, h *hub.Hub) {
	fast, slow := fastAndSlow(t, h)
	// slow reads nothing while the fast subscriber keeps up.
	sent := publishUntil(t, h, fast, 1000, func() bool { return h.Subscribers("x") == 1 })
	if sent == 1000 {
		t.Fatal("a subscriber that reads nothing was not dropped after 1000 messages")
	}
	// What was written before the queue overflowed arrives in order, then
	// the close frame.
	var err error
	for i := 0; ; i++ {
		var p []byte
		if _, p, err = slow.Read(context.Background()); err != nil {
			break
		}
		if got := binary.BigEndian.Uint64(p); got != uint64(i) {
			t.Fatalf("slow subscriber got message %d, want %d", got, i)
		}
	}
	if code := starling.CloseStatus(err); code != starling.StatusPolicyViolation {
		t.Fatalf("slow subscriber ended with %v (%v), want 1008", code, err)
	}
	// The fast one is still subscribed.
	publish(t, h, "x", starling.MessageText, "after")
	expect(t, fast, starling.MessageText, "after")
	st := h.Stats()
	if st.Messages != int64(sent)+1 || st.ClosedSlow != 1 || st.Dropped != 0 || st.Queued < int64(sent)+1 {
		t.Fatalf("Stats = %+v after %d messages, one subscriber closed as slow", st, sent+1)
	}
}

func TestDropNewestKeepsTheSlowSubscriber(t *testing.T) {
	h := hub.New(&hub.Options{QueueSize: 4, Overflow: hub.DropNewest})
	fast, slow := fastAndSlow(t, h)
	const sent = 120 // 30 MiB: more than loopback's socket buffers hold
	publishUntil(t, h, fast, sent, func() bool { return false })
	if n := h.Subscribers("x"); n != 2 {
		t.Fatalf("Subscribers(x) = %d, want 2: DropNewest must keep the slow subscriber", n)
	}
	// slow reads what reached it, then keeps receiving: "last" is
	// published until it arrives.
	type result struct {
		got int
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, prev := 0, -1
		for {
			typ, p, err := slow.Read(context.Background())
			switch {
			case err != nil:
				done <- result{err: err}
				return
			case typ == starling.MessageText:
				done <- result{got: got}
				return
			}
			i := int(binary.BigEndian.Uint64(p))
			if i <= prev {
				done <- result{err: fmt.Errorf("message %d after %d", i, prev)}
				return
			}
			prev = i
			got++
		}
	}()
	var r result
	lasts := 0
	for waiting := true; waiting; {
		publish(t, h, "x", starling.MessageText, "last")
		lasts++
		expect(t, fast, starling.MessageText, "last")
		select {
		case r = <-done:
			waiting = false
		case <-time.After(10 * time.Millisecond):
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := r.got
	if got >= sent {
		t.Fatalf("the slow subscriber got all %d messages: none was dropped", sent)
	}
	t.Logf("the slow subscriber got %d of %d messages", got, sent)
	// Every copy was queued or dropped; the slow subscriber's missing
	// ones were dropped, and perhaps some of the "last" ones.
	st := h.Stats()
	msgs := int64(sent + lasts)
	if st.Messages != msgs || st.Queued+st.Dropped != 2*msgs || st.ClosedSlow != 0 {
		t.Fatalf("Stats = %+v after %d messages to 2 subscribers", st, msgs)
	}
	if st.Dropped < int64(sent-got) || st.Dropped > int64(sent-got+lasts) {
		t.Fatalf("Dropped = %d, want %d to %d", st.Dropped, sent-got, sent-got+lasts)
	}
}

func TestFailedWriteLeavesTheHub(t *testing.T) {
	h := hub.New(nil)
	s := serve(t, h)
	_, sa := s.dial(t, "noleave=1")
	if err := h.Subscribe(sa, "x"); err != nil {
		t.Fatal(err)
	}
	sa.CloseNow()
	publish(t, h, "x", starling.MessageText, "into the void")
	eventually(t, "the failed connection left the hub", func() bool { return h.Subscribers("x") == 0 })
}

// TestCloseNotCutByQueuedMessage closes a subscriber's connection while a
// message is queued for it, as a server shutting down does. The message's
// write fails (no data after a close frame), and that must not cut the
// close handshake short: the peer must still get the close frame.
func TestCloseNotCutByQueuedMessage(t *testing.T) {
	ctx := context.Background()
	h := hub.New(nil)
	for range 20 {
		client, srv, err := starlingtest.Pipe(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Subscribe(srv, "x"); err != nil {
			t.Fatal(err)
		}
		// The pipe buffers nothing: this write holds the frame lock
		// until the client reads.
		publish(t, h, "x", starling.MessageText, "first")
		time.Sleep(5 * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- srv.Close(starling.StatusGoingAway, "shutting down") }()
		time.Sleep(5 * time.Millisecond) // Close has begun, and waits for the lock
		publish(t, h, "x", starling.MessageText, "second")
		for err == nil {
			_, _, err = client.Read(ctx)
		}
		if got := starling.CloseStatus(err); got != starling.StatusGoingAway {
			t.Fatalf("the client's reads ended with %v (status %d), want the close frame's 1001", err, got)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		h.Leave(srv)
		client.CloseNow()
	}
}

func TestPublishRefusesBadMessages(t *testing.T) {
	h := hub.New(nil)
	ctx := context.Background()
	if err := h.Publish(ctx, "x", starling.MessageText, []byte{0xff}); !errors.Is(err, starling.ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: got %v, want ErrInvalidUTF8", err)
	}
	if err := h.Publish(ctx, "x", starling.MessageType(9), nil); err == nil {
		t.Error("a message of type 9 was accepted")
	}
	s := serve(t, h)
	_, sa := s.dial(t, "")
	if err := h.Subscribe(sa, ""); err == nil {
		t.Error("an empty topic name was accepted")
	}
	if err := h.Subscribe(nil, "x"); err == nil {
		t.Error("a nil connection was accepted")
	}
	if err := h.Publish(ctx, "x", starling.MessageText, []byte("after")); err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	h := hub.New(nil)
	s := serve(t, h)
	a, sa := s.dial(t, "")
	if err := h.Subscribe(sa, "x"); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if n := h.Subscribers("x"); n != 0 {
		t.Errorf("Subscribers(x) = %d after Close, want 0", n)
	}
	if err := h.Publish(context.Background(), "x", starling.MessageText, nil); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Publish after Close: got %v, want ErrClosed", err)
	}
	if err := h.Subscribe(sa, "x"); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Subscribe after Close: got %v, want ErrClosed", err)
	}
	// The connection itself is still open.
	if err := sa.Write(context.Background(), starling.MessageText, []byte("open")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, starling.MessageText, "open")
}

// TestChurn joins, leaves and publishes from many goroutines at once, for
// the race detector, and checks that the hub ends empty.
func TestChurn(t *testing.T) {
	h := hub.New(&hub.Options{Overflow: hub.DropNewest})
	s := serve(t, h)
	const conns = 8
	servers := make([]*starling.Conn, conns)
	for i := range servers {
		c, sc := s.dial(t, "")
		servers[i] = sc
		go func() { // read, so that writes do not fill the socket
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
	}
	topics := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	for i, sc := range servers {
		wg.Go(func() {
			for j := range 200 {
				topic := topics[(i+j)%len(topics)]
				if err := h.Subscribe(sc, topic); err != nil {
					t.Error(err)
				}
				if err := h.Publish(context.Background(), topic, starling.MessageText, []byte(topic)); err != nil {
					t.Error(err)
				}
				if j%3 == 0 {
					h.Unsubscribe(sc, topic)
				}
				if j%50 == 0 {
					h.Leave(sc)
				}
			}
			h.Leave(sc)
		})
	}
	wg.Wait()
	for _, topic := range topics {
		if n := h.Subscribers(topic); n != 0 {
			t.Errorf("Subscribers(%s) = %d after everyone left", topic, n)
		}
	}
}

// memoryBroker is a Broker between the hubs of one process, to test how a
// hub uses a broker; hub/natsbroker tests the hub against a real NATS
// server.
type memoryBroker struct {
	mu     sync.Mutex
	subs   map[string]map[*func(hub.Message)]struct{}
	active int // subscriptions not yet cancelled
	fail   string
}

func (b *memoryBroker) Publish(ctx context.Context, topic string, m hub.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for deliver := range b.subs[topic] {
		(*deliver)(hub.Message{Type: m.Type, Data: bytes.Clone(m.Data)})
	}
	return nil
}

func (b *memoryBroker) Subscribe(topic string, deliver func(hub.Message)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if topic == b.fail {
		return nil, errors.New("refused")
	}
	if b.subs == nil {
		b.subs = make(map[string]map[*func(hub.Message)]struct{})
	}
	if b.subs[topic] == nil {
		b.subs[topic] = make(map[*func(hub.Message)]struct{})
	}
	key := &deliver
	b.subs[topic][key] = struct{}{}
	b.active++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs[topic], key)
		b.active--
	}, nil
}

func (b *memoryBroker) subscriptions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.active
}

func TestBroker(t *testing.T) {
	broker := &memoryBroker{fail: "refused"}
	h1 := hub.New(&hub.Options{Broker: broker})
	h2 := hub.New(&hub.Options{Broker: broker})
	a, sa := serve(t, h1).dial(t, "")
	b, sb := serve(t, h2).dial(t, "")
	for _, sub := range []struct {
		h *hub.Hub
		c *starling.Conn
	}{{h1, sa}, {h2, sb}} {
		if err := sub.h.Subscribe(sub.c, "x", "y"); err != nil {
			t.Fatal(err)
		}
	}
	if n := broker.subscriptions(); n != 4 {
		t.Fatalf("%d subscriptions at the broker, want 4 (one per hub and topic)", n)
	}
	// A message published on one hub reaches the subscribers of both.
	publish(t, h1, "x", starling.MessageText, "from 1")
	publish(t, h2, "x", starling.MessageBinary, "from 2")
	for _, c := range []*starling.Conn{a, b} {
		expect(t, c, starling.MessageText, "from 1")
		expect(t, c, starling.MessageBinary, "from 2")
	}
	// The broker is unsubscribed when a hub's last subscriber leaves.
	h1.Unsubscribe(sa, "x")
	h1.Leave(sa)
	if n := broker.subscriptions(); n != 2 {
		t.Fatalf("%d subscriptions at the broker after h1's subscriber left, want 2", n)
	}
	if err := h2.Subscribe(sb, "refused"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a subscription the broker refused: got %v", err)
	}
	if n := h2.Subscribers("refused"); n != 0 {
		t.Fatalf("Subscribers(refused) = %d, want 0", n)
	}
	h2.Close()
	if n := broker.subscriptions(); n != 0 {
		t.Fatalf("%d subscriptions at the broker after Close, want 0", n)
	}
}
