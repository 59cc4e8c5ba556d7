package client_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// relay forwards TCP connections to a target and can stall the ones it
// carries: stalled, it forwards nothing in either direction until resumed.
type relay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	gates []*gate
	conns []net.Conn
	last  time.Time // when bytes last went towards the client
}

// gate holds back a connection's traffic while closed.
type gate struct {
	mu   sync.Mutex
	open chan struct{} // nil while traffic flows
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func newRelay(t *testing.T, target string) *relay {
	r := &relay{ln: listen(t), target: target}
	go r.serve()
	t.Cleanup(func() {
		r.ln.Close()
		r.resume()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range r.conns {
			c.Close()
		}
	})
	return r
}

func (r *relay) serve() {
	for {
		a, err := r.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", r.target)
		if err != nil {
			a.Close()
			continue
		}
		g := &gate{}
		r.mu.Lock()
		r.gates = append(r.gates, g)
		r.conns = append(r.conns, a, b)
		r.mu.Unlock()
		go r.pipe(a, b, g, true)
		go r.pipe(b, a, g, false)
	}
}

func (r *relay) pipe(dst, src net.Conn, g *gate, toClient bool) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		g.wait()
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
			if toClient {
				r.mu.Lock()
				r.last = time.Now()
				r.mu.Unlock()
			}
		}
		if err != nil {
			if err == io.EOF {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
			}
			return
		}
	}
}

// stall holds back the traffic of the connections relayed so far.
func (r *relay) stall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.gates {
		g.mu.Lock()
		if g.open == nil {
			g.open = make(chan struct{})
		}
		g.mu.Unlock()
	}
}

// sinceLast returns how long ago bytes last went towards the client.
func (r *relay) sinceLast() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.last)
}

func (r *relay) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.gates {
		g.mu.Lock()
		if g.open != nil {
			close(g.open)
			g.open = nil
		}
		g.mu.Unlock()
	}
}

// withoutPongs passes on a recorder's events except the answers to
// heartbeat pings, which come at times the test does not control.
func withoutPongs(t *testing.T, rec *recorder) *recorder {
	out := &recorder{ch: make(chan client.Event, cap(rec.ch))}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case ev := <-rec.ch:
				if _, ok := ev.(client.Pong); !ok {
					out.ch <- ev
				}
			case <-stop:
				return
			}
		}
	}()
	return out
}

// The relay stalls: no traffic for HeartbeatTimeout makes the connection
// unviable, and SuggestReconnectAfter later a reconnect is suggested. The
// relay resumes: the connection is viable again, the suggestion
// withdrawn, and messages flow.
func TestViability(t *testing.T) {
	// The timeout is ten intervals so that a loaded machine (a load
	// average of 20 on 2 cores was seen) does not make a healthy
	// connection look unviable.
	const (
		interval     = 100 * time.Millisecond
		timeout      = time.Second
		suggestAfter = 300 * time.Millisecond
	)
	srvURL := newServer(t, nil, echo)
	rl := newRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.ln.Addr().String(), &client.Options{
		HeartbeatInterval:     interval,
		HeartbeatTimeout:      timeout,
		SuggestReconnectAfter: suggestAfter,
	})
	raw := record(t, cl)
	rec := withoutPongs(t, raw)
	cl.Connect()
	rec.expect(t, client.Connected{})
	// Heartbeat pongs keep a healthy connection viable.
	rec.quiet(t, timeout+interval)

	// The client cannot have seen traffic after the relay last sent it
	// some, so each event must come at least its timeout after that.
	// Nor much later: slack stands for a loaded machine, not for speed.
	const slack = 2 * time.Second
	rl.stall()
	rec.expect(t, client.ViabilityChanged{Viable: false})
	if d := rl.sinceLast(); d < timeout || d > timeout+slack {
		t.Errorf("unviable %v after the last traffic, want %v to %v", d, timeout, timeout+slack)
	}
	rec.expect(t, client.ReconnectSuggested{Suggested: true})
	if d := rl.sinceLast(); d < timeout+suggestAfter || d > timeout+suggestAfter+slack {
		t.Errorf("reconnect suggested %v after the last traffic, want %v to %v", d, timeout+suggestAfter, timeout+suggestAfter+slack)
	}
	// Without a reconnect policy the client only suggests.
	rec.quiet(t, suggestAfter)

	must(t, cl.WriteString("still there?", nil))
	rl.resume()
	rec.expect(t,
		client.ViabilityChanged{Viable: true},
		client.ReconnectSuggested{Suggested: false},
		client.Text{Data: "still there?"},
	)
	// A second stretch is reported as the first was.
	rl.stall()
	rec.expect(t, client.ViabilityChanged{Viable: false}, client.ReconnectSuggested{Suggested: true})
	rl.resume()
	rec.expect(t, client.ViabilityChanged{Viable: true}, client.ReconnectSuggested{Suggested: false})
	cl.Disconnect(starling.StatusNormalClosure, "")
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
}

// With a reconnect policy, a connection unviable for too long is dropped
// and replaced.
func TestViabilityReconnects(t *testing.T) {
	srvURL := newServer(t, nil, echo)
	rl := newRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.ln.Addr().String(), &client.Options{
		HeartbeatInterval:     100 * time.Millisecond,
		HeartbeatTimeout:      time.Second, // see TestViability
		SuggestReconnectAfter: 200 * time.Millisecond,
		Reconnect:             &client.ReconnectPolicy{MinDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
	})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	rl.stall() // only the connection relayed so far
	rec.expect(t,
		client.ViabilityChanged{Viable: false},
		client.ReconnectSuggested{Suggested: true},
		client.Error{Err: client.ErrHeartbeatTimeout},
		client.Disconnected{Code: starling.StatusAbnormalClosure},
	)
	ev := rec.next(t)
	if r, ok := ev.(client.Reconnecting); !ok || r.Attempt != 1 {
		t.Fatalf("got %#v, want Reconnecting{Attempt: 1}", ev)
	}
	rec.expect(t, client.Connected{})
	must(t, cl.WriteString("new", nil))
	rec.expect(t, client.Text{Data: "new"})
}

// A receiver slower than the heartbeat's timeouts holds up reading, pongs
// included, but the peer still answers: the connection is not reported
// unviable, nor dropped to reconnect, and no message is lost.
func TestViabilitySlowReceiver(t *testing.T) {
	const (
		interval     = 100 * time.Millisecond
		timeout      = time.Second // see TestViability
		suggestAfter = 300 * time.Millisecond
		busy         = 3 * time.Second // longer than timeout+suggestAfter
	)
	url := newServer(t, nil, echo)
	cl := client.New(url, &client.Options{
		HeartbeatInterval:     interval,
		HeartbeatTimeout:      timeout,
		SuggestReconnectAfter: suggestAfter,
		Reconnect:             &client.ReconnectPolicy{MinDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
	})
	raw := &recorder{ch: make(chan client.Event, 100000)}
	t.Cleanup(cl.ForceDisconnect)
	cl.OnEvent(func(ev client.Event) {
		if ev == (client.Text{Data: "slow"}) {
			time.Sleep(busy)
		}
		raw.ch <- ev
	})
	rec := withoutPongs(t, raw)
	cl.Connect()
	rec.expect(t, client.Connected{})
	must(t, cl.WriteString("slow", nil))
	must(t, cl.WriteString("next", nil))
	rec.expect(t, client.Text{Data: "slow"}, client.Text{Data: "next"})
	rec.quiet(t, timeout+suggestAfter)
	must(t, cl.WriteString("last", nil))
	rec.expect(t, client.Text{Data: "last"})
}

// Without HeartbeatTimeout and SuggestReconnectAfter the client waits
// their defaults, twice HeartbeatInterval and twice that, after the last
// traffic: never less.
func TestViabilityDefaults(t *testing.T) {
	const (
		interval     = 100 * time.Millisecond
		timeout      = 2 * interval
		suggestAfter = 2 * timeout
	)
	srvURL := newServer(t, nil, echo)
	rl := newRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.ln.Addr().String(), &client.Options{HeartbeatInterval: interval})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	rl.stall()
	rec.expect(t, client.ViabilityChanged{Viable: false})
	if d := rl.sinceLast(); d < timeout {
		t.Errorf("unviable %v after the last traffic, want at least %v", d, timeout)
	}
	rec.expect(t, client.ReconnectSuggested{Suggested: true})
	if d := rl.sinceLast(); d < timeout+suggestAfter {
		t.Errorf("reconnect suggested %v after the last traffic, want at least %v", d, timeout+suggestAfter)
	}
}

// A connection that is viable again before a reconnect was suggested does
// not withdraw a suggestion it never made, and is watched as before: it
// can become unviable again.
func TestViableBeforeSuggestion(t *testing.T) {
	srvURL := newServer(t, nil, echo)
	rl := newRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.ln.Addr().String(), &client.Options{
		HeartbeatInterval:     100 * time.Millisecond,
		HeartbeatTimeout:      300 * time.Millisecond,
		SuggestReconnectAfter: time.Hour,
	})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	rl.stall()
	rec.expect(t, client.ViabilityChanged{Viable: false})
	must(t, cl.WriteString("back", nil))
	rl.resume()
	rec.expect(t, client.ViabilityChanged{Viable: true}, client.Text{Data: "back"})
	rl.stall()
	rec.expect(t, client.ViabilityChanged{Viable: false})
}

// Every byte read is traffic, even in the middle of a long message that
// arrives more slowly than HeartbeatTimeout, from a peer too busy sending
// it to answer pings: the connection stays viable.
func TestViabilityMidMessage(t *testing.T) {
	const (
		timeout   = time.Second // see TestViability
		fragments = 15
		gap       = 100 * time.Millisecond // fragments·gap > timeout
		chunk     = 32 << 10               // starling sends a fragment each time this much is written
	)
	url := newServer(t, nil, func(c *starling.Conn, _ *http.Request) {
		w, err := c.Writer(bg, starling.MessageBinary)
		if err != nil {
			return
		}
		for range fragments {
			if _, err := w.Write(make([]byte, chunk)); err != nil {
				return
			}
			time.Sleep(gap)
		}
		w.Close()
		c.Read(bg) // until the client closes
	})
	cl := client.New(url, &client.Options{
		HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout:  timeout,
		ReadLimit:         fragments * chunk,
	})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	ev := rec.next(t)
	if b, ok := ev.(client.Binary); !ok || len(b.Data) != fragments*chunk {
		t.Fatalf("got %T, want the %d-byte message", ev, fragments*chunk)
	}
}

// The heartbeat pings for as long as the connection is open, one ping
// each HeartbeatInterval: it does not stop after the first, nor ping at
// every check.
func TestHeartbeatPings(t *testing.T) {
	const interval = 200 * time.Millisecond
	pings := make(chan time.Time, 100)
	url := newServer(t, &starling.AcceptOptions{OnPing: func([]byte) { pings <- time.Now() }}, echo)
	cl := client.New(url, &client.Options{HeartbeatInterval: interval, HeartbeatTimeout: 10 * time.Second})
	record(t, cl)
	cl.Connect()
	first := recv(t, pings)
	var last time.Time
	for range 4 {
		last = recv(t, pings)
	}
	// Four intervals apart, less the lateness of the first ping, which
	// a loaded machine may delay: checked against half of it, which
	// pinging at every check (a quarter interval) cannot reach.
	if d := last.Sub(first); d < 2*interval {
		t.Fatalf("5 pings within %v, want them about %v apart", d, interval)
	}
}

// The time reading waits for a slow receiver does not count towards
// HeartbeatTimeout: a peer that falls silent while reading waits to hand
// over its next message is reported unviable only HeartbeatTimeout after
// the wait.
func TestViabilityAfterSlowDelivery(t *testing.T) {
	const (
		timeout = time.Second // see TestViability
		busy    = 3 * timeout / 2
	)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url := newServer(t, nil, func(c *starling.Conn, _ *http.Request) {
		c.Write(bg, starling.MessageText, []byte("slow"))
		c.Write(bg, starling.MessageText, []byte("next"))
		<-release // silent, and not reading: no pongs
	})
	cl := client.New(url, &client.Options{
		HeartbeatInterval:     100 * time.Millisecond,
		HeartbeatTimeout:      timeout,
		SuggestReconnectAfter: time.Hour,
	})
	type timed struct {
		ev client.Event
		at time.Time // when the receiver returned
	}
	events := make(chan timed, 100)
	t.Cleanup(cl.ForceDisconnect)
	cl.OnEvent(func(ev client.Event) {
		if ev == (client.Text{Data: "slow"}) {
			time.Sleep(busy)
		}
		events <- timed{ev, time.Now()}
	})
	cl.Connect()
	if ev := recv(t, events).ev; match(ev, client.Connected{}) != nil {
		t.Fatalf("got %#v, want Connected", ev)
	}
	slow := recv(t, events)
	if slow.ev != (client.Text{Data: "slow"}) {
		t.Fatalf("got %#v, want the message", slow.ev)
	}
	if ev := recv(t, events).ev; ev != (client.Text{Data: "next"}) {
		t.Fatalf("got %#v, want the next message", ev)
	}
	unviable := recv(t, events)
	if unviable.ev != (client.ViabilityChanged{Viable: false}) {
		t.Fatalf("got %#v, want ViabilityChanged{false}", unviable.ev)
	}
	if d := unviable.at.Sub(slow.at); d < timeout {
		t.Errorf("unviable %v after reading stopped waiting, want at least %v", d, timeout)
	}
}

// A reconnect is suggested once for each stretch: a connection that ends
// abnormally after it was suggested, while still unviable, does not
// suggest it again.
func TestReconnectSuggestedOnce(t *testing.T) {
	srvURL := newServer(t, nil, echo)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.addr(), &client.Options{
		HeartbeatInterval:     100 * time.Millisecond,
		HeartbeatTimeout:      300 * time.Millisecond,
		SuggestReconnectAfter: 300 * time.Millisecond,
	})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	rl.blackholeAll()
	rec.expect(t, client.ViabilityChanged{Viable: false}, client.ReconnectSuggested{Suggested: true})
	rl.dropAll()
	rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
}
