package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/hub/natsbroker"
)

// runNATS starts a NATS server on loopback for the test.
func runNATS(t *testing.T) *server.Server {
	t.Helper()
	s, err := startNATS(-1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNATS(s) })
	return s
}

// connect opens a NATS connection to s.
func connect(t *testing.T, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// node is one server of a cluster: a hub on its own NATS connection, and a
// WebSocket endpoint that subscribes each connection to the topic in its
// "topic" query parameter and publishes there what it reads.
type node struct {
	h   *hub.Hub
	nc  *nats.Conn
	url string
}

func startNode(t *testing.T, s *server.Server) *node {
	t.Helper()
	n := &node{nc: connect(t, s)}
	// Queues long enough for TestEachPublishersOrderIsKept's burst, which
	// arrives faster than a connection writes it.
	n.h = hub.New(&hub.Options{Broker: natsbroker.New(n.nc, nil), QueueSize: 1024})
	var wg sync.WaitGroup
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		defer n.h.Leave(c)
		topic := r.URL.Query().Get("topic")
		if err := n.h.Subscribe(c, topic); err != nil {
			c.Close(starling.StatusPolicyViolation, err.Error())
			return
		}
		// The first message tells the client it is subscribed.
		if err := c.Write(r.Context(), starling.MessageText, []byte("subscribed")); err != nil {
			return
		}
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := n.h.Publish(r.Context(), topic, typ, p); err != nil {
				t.Errorf("Publish: %v", err)
			}
		}
	}))
	t.Cleanup(func() {
		ts.Close()
		wg.Wait()
		n.h.Close()
	})
	n.url = "ws" + strings.TrimPrefix(ts.URL, "http")
	return n
}

// join connects a client to n's endpoint for topic and waits until it is
// subscribed.
func (n *node) join(t *testing.T, topic string) *starling.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, n.url+"/?topic="+topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	expect(t, c, starling.MessageText, "subscribed")
	return c
}

func expect(t *testing.T, c *starling.Conn, typ starling.MessageType, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading %q: %v", want, err)
	}
	if gotTyp != typ || string(got) != want {
		t.Fatalf("got %v %q, want %v %q", gotTyp, got, typ, want)
	}
}

func TestMessagesCrossServers(t *testing.T) {
	s := runNATS(t)
	n1, n2 := startNode(t, s), startNode(t, s)
	a := n1.join(t, "chat.lobby")
	b := n2.join(t, "chat.lobby")
	other := n2.join(t, "chat.other")

	ctx := context.Background()
	if err := a.Write(ctx, starling.MessageText, []byte("hello from 1")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*starling.Conn{a, b} {
		expect(t, c, starling.MessageText, "hello from 1")
	}
	if err := b.Write(ctx, starling.MessageBinary, []byte{0xff, 0}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*starling.Conn{a, b} {
		expect(t, c, starling.MessageBinary, "\xff\x00")
	}
	// A topic's messages reach only its subscribers: the next message
	// other reads is its own topic's.
	if err := other.Write(ctx, starling.MessageText, []byte("elsewhere")); err != nil {
		t.Fatal(err)
	}
	expect(t, other, starling.MessageText, "elsewhere")
}

func TestAnyNATSClientCanPublish(t *testing.T) {
	s := runNATS(t)
	n := startNode(t, s)
	c := n.join(t, "prices")
	pub := connect(t, s)
	for _, p := range [][]byte{[]byte(`{"STAR":142.5}`), {0xc3, 0x28}} {
		if err := pub.Publish("starling.prices", p); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, c, starling.MessageText, `{"STAR":142.5}`) // valid UTF-8, no header: text
	expect(t, c, starling.MessageBinary, "\xc3\x28")     // invalid UTF-8, no header: binary
	// Text that is not UTF-8 cannot be sent: the hub refuses it, counts
	// it, and goes on with the next message.
	for _, msg := range []*nats.Msg{
		{Subject: "starling.prices", Data: []byte{0xc3, 0x28}, Header: nats.Header{natsbroker.TypeHeader: {"text"}}},
		{Subject: "starling.prices", Data: []byte("typed"), Header: nats.Header{natsbroker.TypeHeader: {"binary"}}},
	} {
		if err := pub.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, c, starling.MessageBinary, "typed")
	if got := n.h.Stats().Refused; got != 1 {
		t.Fatalf("Stats().Refused = %d, want 1", got)
	}
}

func TestEachPublishersOrderIsKept(t *testing.T) {
	const each = 300
	s := runNATS(t)
	n1, n2 := startNode(t, s), startNode(t, s)
	clients := []*starling.Conn{n1.join(t, "x"), n2.join(t, "x")}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for j := range each {
				if err := c.Write(ctx, starling.MessageText, fmt.Appendf(nil, "%d-%d", i, j)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, c := range clients {
		next := make([]int, len(clients))
		for range len(clients) * each {
			_, p, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var from, j int
			fmt.Sscanf(string(p), "%d-%d", &from, &j)
			if j != next[from] {
				t.Fatalf("got %s, want %d-%d", p, from, next[from])
			}
			next[from]++
		}
	}
}

func TestSubscriptionFollowsTheHubsInterest(t *testing.T) {
	s := runNATS(t)
	n := startNode(t, s)
	base := s.NumSubscriptions()
	a := n.join(t, "x")
	b := n.join(t, "x")
	if got := s.NumSubscriptions(); got != base+1 {
		t.Fatalf("%d subscriptions at the NATS server with two clients on one topic, want %d", got, base+1)
	}
	a.Close(starling.StatusNormalClosure, "")
	b.Close(starling.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for s.NumSubscriptions() != base {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions at the NATS server after the last client left, want %d", s.NumSubscriptions(), base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBadTopics(t *testing.T) {
	s := runNATS(t)
	b := natsbroker.New(connect(t, s), &natsbroker.Options{Prefix: "app"})
	for _, topic := range []string{"a b", "a.*", "news.>", "a..b", ".a", "a."} {
		if _, err := b.Subscribe(topic, func(hub.Message) {}); !errors.Is(err, natsbroker.ErrBadTopic) {
			t.Errorf("Subscribe(%q): got %v, want ErrBadTopic", topic, err)
		}
		if err := b.Publish(context.Background(), topic, hub.Message{Type: starling.MessageText}); !errors.Is(err, natsbroker.ErrBadTopic) {
			t.Errorf("Publish(%q): got %v, want ErrBadTopic", topic, err)
		}
	}
	// A hub reports the broker's refusal, and the connection stays out.
	n := startNode(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, n.url+"/?topic=a.*", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	var ce *starling.CloseError
	if !errors.As(err, &ce) || ce.Code != starling.StatusPolicyViolation || !strings.Contains(ce.Reason, "not a NATS subject") {
		t.Fatalf("got %v, want a 1008 close naming the bad topic", err)
	}
}

func TestPrefix(t *testing.T) {
	s := runNATS(t)
	nc := connect(t, s)
	b := natsbroker.New(nc, &natsbroker.Options{Prefix: "app"})
	got := make(chan *nats.Msg, 1)
	listener := connect(t, s)
	sub, err := listener.ChanSubscribe("app.news", got)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := listener.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), "news", hub.Message{Type: starling.MessageBinary, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		if string(msg.Data) != "x" || msg.Header.Get(natsbroker.TypeHeader) != "binary" {
			t.Fatalf("got %q with type %q", msg.Data, msg.Header.Get(natsbroker.TypeHeader))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was published on app.news")
	}
}

// TestSurvivesANATSRestart restarts the NATS server under two hubs: NATS
// reconnects and subscribes again by itself, and messages cross servers
// again.
func TestSurvivesANATSRestart(t *testing.T) {
	s, err := startNATS(-1)
	if err != nil {
		t.Fatal(err)
	}
	port := s.Addr().(*net.TCPAddr).Port
	n1, n2 := startNode(t, s), startNode(t, s)
	a := n1.join(t, "x")
	b := n2.join(t, "x")

	stopNATS(s)
	if s, err = startNATS(port); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNATS(s) })
	deadline := time.Now().Add(20 * time.Second)
	for !n1.nc.IsConnected() || !n2.nc.IsConnected() || s.NumSubscriptions() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the hubs did not reconnect to the restarted NATS server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Write(context.Background(), starling.MessageText, []byte("after the restart")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, starling.MessageText, "after the restart")
	expect(t, a, starling.MessageText, "after the restart")
}

// TestLongTopicLeavesNATSUp subscribes and publishes to a topic whose
// subject is longer than a NATS server takes on a protocol line (4096 bytes
// by default). The server answers such a line by closing the connection,
// and nats.go does not reconnect after that error: the broker must refuse
// the topic rather than send it, or one client choosing a long room name
// cuts every topic of the server off from the others.
func TestLongTopicLeavesNATSUp(t *testing.T) {
	s := runNATS(t)
	n1, n2 := startNode(t, s), startNode(t, s)
	a := n1.join(t, "x")
	b := n2.join(t, "x")

	long := strings.Repeat("a", 5000)
	if _, err := natsbroker.New(n1.nc, nil).Subscribe(long, func(hub.Message) {}); !errors.Is(err, natsbroker.ErrBadTopic) {
		t.Errorf("Subscribe to a topic of %d bytes: got %v, want ErrBadTopic", len(long), err)
	}
	if err := n1.h.Publish(context.Background(), long, starling.MessageText, []byte("lost")); !errors.Is(err, natsbroker.ErrBadTopic) {
		t.Errorf("Publish to a topic of %d bytes: got %v, want ErrBadTopic", len(long), err)
	}
	if err := n1.nc.Flush(); err != nil {
		t.Fatalf("the NATS connection failed: %v", err)
	}
	// The longest topic allowed goes through.
	longest := strings.Repeat("b", 4032-len(natsbroker.DefaultPrefix+"."))
	c := n2.join(t, longest)
	if err := n1.h.Publish(context.Background(), longest, starling.MessageText, []byte("longest")); err != nil {
		t.Fatal(err)
	}
	expect(t, c, starling.MessageText, "longest")
	if err := a.Write(context.Background(), starling.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, starling.MessageText, "still here")
	expect(t, a, starling.MessageText, "still here")
}
