package client_test

import (
	"io"
	"net"
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
