package client_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// restartable is a WebSocket server that can be stopped and started again
// on the same port.
type restartable struct {
	t       *testing.T
	addr    string
	handler http.Handler

	mu    sync.Mutex
	srv   *http.Server
	conns []net.Conn
}

func newRestartable(t *testing.T, serve func(c *starling.Conn, n int)) *restartable {
	s := &restartable{t: t}
	var n atomic.Int32
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		serve(c, int(n.Add(1)))
	})
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *restartable) start() {
	s.t.Helper()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: s.handler, ConnState: s.track}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// track remembers every connection before its handler runs, because
// Server.Close leaves hijacked connections open.
func (s *restartable) track(nc net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
	}
}

// stop closes the listener and drops every WebSocket connection without
// a close frame, as a crashed server would.
func (s *restartable) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv.Close()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// The server stops and starts again on the same port: the client
// reconnects with backoff, announcing each attempt, runs the hook, whose
// write goes first, then sends the writes kept from before; no done is
// lost or called twice.
func TestReconnect(t *testing.T) {
	second := make(chan []string, 1)
	srv := newRestartable(t, func(c *starling.Conn, n int) {
		var got []string
		for {
			_, b, err := c.Read(bg)
			if err != nil {
				break
			}
			got = append(got, string(b))
			if string(b) == "last" {
				break
			}
		}
		if n > 1 {
			second <- got
			c.Close(starling.StatusNormalClosure, "")
		}
	})
	var hooks atomic.Int32
	var (
		mu    sync.Mutex
		calls = map[string]int{}
		fails = map[string]error{}
	)
	written := make(chan string, 16) // the writes whose done has run
	done := func(s string) func(error) {
		return func(err error) {
			mu.Lock()
			defer mu.Unlock()
			calls[s]++
			if err != nil {
				fails[s] = err
			}
			written <- s
		}
	}
	policy := &client.ReconnectPolicy{
		MinDelay:   20 * time.Millisecond,
		MaxDelay:   80 * time.Millisecond,
		KeepQueued: true,
		OnReconnect: func(c *client.Client) {
			hooks.Add(1)
			must(t, c.WriteString("resubscribe", done("resubscribe")))
		},
	}
	cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: policy})
	rec := record(t, cl)
	rec.log = t
	cl.Connect()
	rec.expect(t, client.Connected{})
	must(t, cl.WriteString("before", done("before")))

	srv.stop()
	rec.expect(t, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	// Queued while the server is down: kept for the next connection.
	var kept []string
	for i := range 5 {
		s := fmt.Sprintf("kept-%d", i)
		kept = append(kept, s)
		must(t, cl.WriteString(s, done(s)))
	}
	restarted := time.AfterFunc(300*time.Millisecond, srv.start)
	defer restarted.Stop()

	attempt := 1
	for connected := false; !connected; {
		ev := rec.next(t)
		r, ok := ev.(client.Reconnecting)
		if !ok || r.Attempt != attempt || r.Delay < policy.MinDelay || r.Delay > policy.MaxDelay {
			t.Fatalf("got %#v, want Reconnecting{Attempt: %d} with a delay in [%v, %v]", ev, attempt, policy.MinDelay, policy.MaxDelay)
		}
		attempt++
		switch ev := rec.next(t).(type) {
		case client.Connected:
			connected = true
		case client.Error:
			rec.expect(t, client.Disconnected{Code: starling.StatusAbnormalClosure})
		default:
			t.Fatalf("got %#v after Reconnecting", ev)
		}
	}
	if attempt < 3 {
		t.Errorf("reconnected after %d attempts; the server was down for longer than two delays", attempt-1)
	}
	// Writes made while OnReconnect runs go first, whoever makes them:
	// write "last" only once the kept writes are out, after the hook.
	for s := ""; s != kept[len(kept)-1]; {
		s = recv(t, written)
	}
	must(t, cl.WriteString("last", done("last")))
	got := recv(t, second)
	if len(got) > 1 && got[1] == "before" {
		// Queued but not yet written when the server dropped: kept.
		got = append(got[:1], got[2:]...)
	}
	want := append(append([]string{"resubscribe"}, kept...), "last")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("second connection got %q, want %q", got, want)
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
	rec.quiet(t, 200*time.Millisecond) // a normal closure is not reconnected
	if n := hooks.Load(); n != 1 {
		t.Errorf("OnReconnect ran %d times, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range append(want, "before") {
		if calls[s] != 1 {
			t.Errorf("done of %q called %d times", s, calls[s])
		}
		if fails[s] != nil && s != "before" {
			t.Errorf("done of %q: %v", s, fails[s])
		}
	}
}

// MaxAttempts bounds the reconnect attempts in a row.
func TestReconnectGivesUp(t *testing.T) {
	release := make(chan struct{})
	srv := newRestartable(t, func(c *starling.Conn, n int) { <-release })
	defer close(release)
	policy := &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 3}
	cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: policy})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	srv.stop()
	rec.expect(t, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	for i := 1; i <= 3; i++ {
		ev := rec.next(t)
		if r, ok := ev.(client.Reconnecting); !ok || r.Attempt != i {
			t.Fatalf("got %#v, want Reconnecting{Attempt: %d}", ev, i)
		}
		rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	}
	rec.quiet(t, 100*time.Millisecond)
}

// Without KeepQueued, writes fail while waiting to reconnect; Disconnect
// then ends the run with Cancelled. Neither a normal close from the server
// nor the user's Disconnect is reconnected.
func TestReconnectStops(t *testing.T) {
	t.Run("disconnect while waiting", func(t *testing.T) {
		srv := newRestartable(t, func(c *starling.Conn, n int) { c.Read(bg) })
		policy := &client.ReconnectPolicy{MinDelay: time.Hour, MaxDelay: time.Hour}
		cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: policy})
		rec := record(t, cl)
		cl.Connect()
		rec.expect(t, client.Connected{})
		srv.stop()
		rec.expect(t, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
		ev := rec.next(t)
		if _, ok := ev.(client.Reconnecting); !ok {
			t.Fatalf("got %#v, want Reconnecting", ev)
		}
		if err := cl.WriteString("x", nil); !errors.Is(err, client.ErrNotConnected) {
			t.Errorf("write while waiting without KeepQueued = %v, want ErrNotConnected", err)
		}
		cl.Disconnect(starling.StatusNormalClosure, "")
		rec.expect(t, client.Cancelled{})
		rec.quiet(t, 100*time.Millisecond)
		// The run is over: the client connects again when asked.
		srv.start()
		cl.Connect()
		rec.expect(t, client.Connected{})
	})
	t.Run("normal closure", func(t *testing.T) {
		srv := newRestartable(t, func(c *starling.Conn, n int) { c.Close(starling.StatusNormalClosure, "done") })
		cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond}})
		rec := record(t, cl)
		cl.Connect()
		rec.expect(t, client.Connected{}, client.Disconnected{Code: starling.StatusNormalClosure, Reason: "done"})
		rec.quiet(t, 100*time.Millisecond)
	})
	for _, tt := range []struct {
		name string
		code starling.StatusCode
		want []client.Event
	}{
		{"user disconnect", 4000, []client.Event{client.Disconnected{Code: 4000}}},
		// The connection is dropped, as a network failure would drop it,
		// but it was the user who ended it.
		{"user disconnect with a code that may not be sent", starling.StatusAbnormalClosure,
			[]client.Event{client.Error{Err: starling.ErrInvalidStatus}, client.Disconnected{Code: starling.StatusAbnormalClosure}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRestartable(t, echo2)
			cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond}})
			rec := record(t, cl)
			cl.Connect()
			rec.expect(t, client.Connected{})
			cl.Disconnect(tt.code, "leaving")
			rec.expect(t, tt.want...)
			rec.quiet(t, 100*time.Millisecond)
		})
	}
}

func echo2(c *starling.Conn, _ int) { echo(c, nil) }

// Without KeepQueued, the writes pending when a connection drops fail,
// each once, before its Disconnected is delivered.
func TestReconnectFailsQueued(t *testing.T) {
	release := make(chan struct{})
	srv := newRestartable(t, func(c *starling.Conn, n int) { <-release })
	defer close(release)
	conns := make(chan *stuckConn, 1)
	cl := client.New("ws://"+srv.addr, &client.Options{
		Reconnect:      &client.ReconnectPolicy{MinDelay: time.Hour, MaxDelay: time.Hour},
		NetDialContext: stuckDialer(conns),
	})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	sc := recv(t, conns)
	sc.stuck.Store(true)
	const n = 3
	var calls [n]atomic.Int32
	var disconnected atomic.Int32
	for i := range n {
		must(t, cl.WriteString("x", func(err error) {
			calls[i].Add(1)
			if errors.Is(err, client.ErrDisconnected) {
				disconnected.Add(1)
			} else if err == nil {
				t.Error("a write that could not finish reported success")
			}
		}))
	}
	recv(t, sc.blocked) // the first write is on its way
	srv.stop()
	rec.expect(t, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	for i := range n {
		if c := calls[i].Load(); c != 1 {
			t.Errorf("done of write %d called %d times before Disconnected", i, c)
		}
	}
	if d := disconnected.Load(); d != n-1 {
		t.Errorf("%d writes failed with ErrDisconnected, want %d (all but the one being written)", d, n-1)
	}
}

// Disconnect called from OnReconnect closes the connection after the
// writes already queued, as anywhere else: the writes kept from the
// previous connection are sent, behind the hook's own, not failed.
func TestDisconnectFromOnReconnect(t *testing.T) {
	second := make(chan []string, 1)
	srv := newRestartable(t, func(c *starling.Conn, n int) {
		var got []string
		for {
			_, b, err := c.Read(bg)
			if err != nil {
				got = append(got, fmt.Sprint(starling.CloseStatus(err)))
				break
			}
			got = append(got, string(b))
		}
		if n > 1 {
			second <- got
		}
	})
	policy := &client.ReconnectPolicy{
		MinDelay:   20 * time.Millisecond,
		MaxDelay:   40 * time.Millisecond,
		KeepQueued: true,
		OnReconnect: func(c *client.Client) {
			must(t, c.WriteString("resubscribe", nil))
			c.Disconnect(starling.StatusNormalClosure, "")
		},
	}
	cl := client.New("ws://"+srv.addr, &client.Options{Reconnect: policy})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	srv.stop()
	rec.expect(t, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	failed := make(chan error, 1)
	must(t, cl.WriteString("kept", func(err error) {
		if err != nil {
			failed <- err
		}
	}))
	srv.start()
	want := fmt.Sprint([]string{"resubscribe", "kept", fmt.Sprint(starling.StatusNormalClosure)})
	if got := fmt.Sprint(recv(t, second)); got != want {
		t.Errorf("second connection got %s, want %s", got, want)
	}
	select {
	case err := <-failed:
		t.Errorf("kept write failed: %v", err)
	default:
	}
}

// MaxAttempts counts the attempts in a row: each successful opening
// handshake starts the count again, so a connection that keeps opening
// and dropping keeps being reconnected.
func TestReconnectCountRestarts(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, _ *http.Request) {}) // drops each connection once open
	policy := &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxAttempts: 1}
	cl := client.New(url, &client.Options{Reconnect: policy})
	rec := record(t, cl)
	cl.Connect()
	for range 3 {
		rec.expect(t, client.Connected{}, client.ReconnectSuggested{Suggested: true}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
		ev := rec.next(t)
		if r, ok := ev.(client.Reconnecting); !ok || r.Attempt != 1 {
			t.Fatalf("got %#v, want Reconnecting{Attempt: 1}", ev)
		}
	}
}
