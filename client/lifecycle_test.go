package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

var bg = context.Background()

// The whole life of a connection: messages and control frames both ways,
// then a close from the server with its own code and reason.
func TestLifecycleServerClose(t *testing.T) {
	serverPings := make(chan string, 10)
	serverPongs := make(chan string, 10)
	opts := &starling.AcceptOptions{
		Subprotocols: []string{"chat"},
		OnPing:       func(p []byte) { serverPings <- string(p) },
		OnPong:       func(p []byte) { serverPongs <- string(p) },
	}
	url := newServer(t, opts, func(c *starling.Conn, r *http.Request) {
		c.Write(bg, starling.MessageText, []byte("hello"))
		c.Write(bg, starling.MessageBinary, []byte{1, 2, 3})
		c.WritePing(bg, []byte("p1"))
		c.WritePong(bg, []byte("q1"))
		for {
			typ, b, err := c.Read(bg)
			if err != nil {
				return
			}
			if string(b) == "close-me" {
				c.Close(4001, "bye")
				return
			}
			c.Write(bg, typ, b)
		}
	})
	cl := client.New(url, &client.Options{Subprotocols: []string{"chat"}})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t,
		client.Connected{Subprotocol: "chat"},
		client.Text{Data: "hello"},
		client.Binary{Data: []byte{1, 2, 3}},
		client.Ping{Data: []byte("p1")},
		client.Pong{Data: []byte("q1")},
	)
	written := make(chan error, 10)
	done := func(err error) { written <- err }
	must(t, cl.WriteString("echo", done))
	must(t, cl.WriteData([]byte{4, 5}, done))
	must(t, cl.WritePing([]byte("cp"), done))
	must(t, cl.WritePong([]byte("cq"), done))
	rec.expect(t, client.Text{Data: "echo"}, client.Binary{Data: []byte{4, 5}}, client.Pong{Data: []byte("cp")})
	for range 4 {
		if err := <-written; err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	}
	if got := recv(t, serverPings); got != "cp" {
		t.Errorf("server got ping %q, want cp", got)
	}
	// The answer to p1 leaves from a goroutine of its own, so the pong
	// written by hand may overtake it.
	pongs := []string{recv(t, serverPongs), recv(t, serverPongs)}
	slices.Sort(pongs)
	if !slices.Equal(pongs, []string{"cq", "p1"}) {
		t.Errorf("server got pongs %q, want the answer to its ping p1 and cq", pongs)
	}
	must(t, cl.WriteString("close-me", nil))
	rec.expect(t, client.Disconnected{Code: 4001, Reason: "bye"})
	rec.quiet(t, 100*time.Millisecond)
	if err := cl.WriteString("late", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("write after Disconnected = %v, want ErrNotConnected", err)
	}
}

// Disconnect sends what is queued, then does the close handshake; the
// event carries the code the server answers with.
func TestDisconnect(t *testing.T) {
	got := make(chan string, 10)
	closed := make(chan error, 1)
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		for {
			_, b, err := c.Read(bg)
			if err != nil {
				closed <- err
				return
			}
			got <- string(b)
		}
	})
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	for _, s := range []string{"a", "b", "c"} {
		must(t, cl.WriteString(s, nil))
	}
	cl.Disconnect(starling.StatusNormalClosure, "done")
	if err := cl.WriteString("after", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("write after Disconnect = %v, want ErrNotConnected", err)
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
	for _, want := range []string{"a", "b", "c"} {
		if s := recv(t, got); s != want {
			t.Fatalf("server got %q, want %q", s, want)
		}
	}
	var ce *starling.CloseError
	if err := recv(t, closed); !errors.As(err, &ce) || ce.Code != 1000 || ce.Reason != "done" {
		t.Errorf("server saw %v, want status 1000 \"done\"", err)
	}
	rec.quiet(t, 100*time.Millisecond)
}

// ForceDisconnect drops the connection: Cancelled for the client, an
// abnormal closure for the server.
func TestForceDisconnect(t *testing.T) {
	closed := make(chan error, 1)
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		_, _, err := c.Read(bg)
		closed <- err
	})
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})
	if err := recv(t, closed); starling.CloseStatus(err) != starling.StatusAbnormalClosure {
		t.Errorf("server saw %v, want abnormal closure", err)
	}
	rec.quiet(t, 100*time.Millisecond)
}

// Disconnect while the handshake is pending gives up on it.
func TestDisconnectWhileConnecting(t *testing.T) {
	ln := listen(t)
	go func() {
		// Accept and say nothing, so the handshake never completes.
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { nc.Close() })
		}
	}()
	cl := client.New("ws://"+ln.Addr().String(), nil)
	rec := record(t, cl)
	queued := make(chan error, 1)
	cl.Connect()
	must(t, cl.WriteString("never", func(err error) { queued <- err }))
	cl.Disconnect(starling.StatusNormalClosure, "")
	rec.expect(t, client.Cancelled{})
	if err := recv(t, queued); !errors.Is(err, client.ErrDisconnected) {
		t.Errorf("done(%v), want ErrDisconnected", err)
	}
	rec.quiet(t, 100*time.Millisecond)
}

// A failed dial is an attempt like any other: Error, then Disconnected.
func TestDialFailure(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	cl := client.New("ws://"+addr, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	rec.quiet(t, 100*time.Millisecond)
}

// A refused handshake is reported with the server's status.
func TestHandshakeRefused(t *testing.T) {
	url := newServer(t, nil, echo)
	cl := client.New(url, &client.Options{Origin: "https://evil.example"})
	rec := record(t, cl)
	cl.Connect()
	ev := rec.next(t)
	var he *starling.HandshakeError
	if e, ok := ev.(client.Error); !ok || !errors.As(e.Err, &he) || he.StatusCode != http.StatusForbidden {
		t.Fatalf("got %#v, want Error with a 403 HandshakeError", ev)
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusAbnormalClosure})
}

// A server that goes away closes with its code and reason.
func TestServerGoesAway(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		c.Close(starling.StatusGoingAway, "restart")
	})
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{}, client.Disconnected{Code: starling.StatusGoingAway, Reason: "restart"})
}

// A server that drops TCP: a network error.
func TestNetworkError(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		c.CloseNow()
	})
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t,
		client.Connected{},
		client.ReconnectSuggested{Suggested: true},
		client.Error{},
		client.Disconnected{Code: starling.StatusAbnormalClosure},
	)
}

// Connect from the receiver of Disconnected starts the next connection,
// and its events follow the first connection's: none is delivered until
// that receiver has returned.
func TestConnectAgainFromHandler(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		c.Write(bg, starling.MessageText, []byte("hi"))
		c.Close(4000, "again")
	})
	cl := client.New(url, nil)
	events := make(chan client.Event, 100)
	n := 0
	cl.OnEvent(func(ev client.Event) {
		if _, ok := ev.(client.Disconnected); ok {
			n++
			if n < 3 {
				cl.Connect()
				// Time for the next connection to open, and for its
				// events to be held back.
				time.Sleep(50 * time.Millisecond)
			}
		}
		events <- ev
	})
	cl.Connect()
	rec := &recorder{ch: events}
	for range 3 {
		rec.expect(t, client.Connected{}, client.Text{Data: "hi"}, client.Disconnected{Code: 4000, Reason: "again"})
	}
	rec.quiet(t, 100*time.Millisecond)
}

// A slow receiver loses nothing: every message arrives, in order.
func TestSlowReceiver(t *testing.T) {
	const n = 200
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		for i := range n {
			if c.Write(bg, starling.MessageBinary, []byte{byte(i)}) != nil {
				return
			}
		}
		c.Close(starling.StatusNormalClosure, "")
	})
	cl := client.New(url, nil)
	events := make(chan client.Event, 1000)
	cl.OnEvent(func(ev client.Event) {
		time.Sleep(time.Millisecond)
		events <- ev
	})
	cl.Connect()
	rec := &recorder{ch: events}
	rec.expect(t, client.Connected{})
	for i := range n {
		rec.expect(t, client.Binary{Data: []byte{byte(i)}})
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(eventTimeout):
		t.Fatal("nothing received within", eventTimeout)
		var zero T
		return zero
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Writes made while connecting go out once the connection opens.
func TestWriteWhileConnecting(t *testing.T) {
	url := newServer(t, nil, echo)
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	must(t, cl.WriteString("early", nil))
	rec.expect(t, client.Connected{}, client.Text{Data: "early"})
}

// Disconnect while messages pour in and the receiver is slow: the close
// handshake may read the rest itself, and the connection still ends with
// the server's answer, after messages in order and without an Error.
func TestDisconnectWhileReceiving(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		go func() {
			for i := 0; ; i++ {
				if c.Write(bg, starling.MessageText, []byte(strconv.Itoa(i))) != nil {
					return
				}
			}
		}()
		c.Read(bg)
	})
	cl := client.New(url, nil)
	events := make(chan client.Event, 100000)
	cl.OnEvent(func(ev client.Event) {
		time.Sleep(100 * time.Microsecond)
		events <- ev
	})
	t.Cleanup(cl.ForceDisconnect)
	cl.Connect()
	rec := &recorder{ch: events}
	rec.expect(t, client.Connected{})
	for i := 0; ; i++ {
		ev := rec.next(t)
		if i == 50 {
			cl.Disconnect(starling.StatusNormalClosure, "")
		}
		if d, ok := ev.(client.Disconnected); ok {
			if d.Code != starling.StatusNormalClosure || i < 50 {
				t.Fatalf("after %d messages: %#v", i, d)
			}
			break
		}
		if ev != (client.Text{Data: strconv.Itoa(i)}) {
			t.Fatalf("got %#v, want text %d", ev, i)
		}
	}
	rec.quiet(t, 100*time.Millisecond)
}

// Disconnect with a code that may not be sent drops the connection and
// says why.
func TestDisconnectInvalidCode(t *testing.T) {
	url := newServer(t, nil, echo)
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	cl.Disconnect(starling.StatusAbnormalClosure, "")
	rec.expect(t, client.Error{Err: starling.ErrInvalidStatus}, client.Disconnected{Code: starling.StatusAbnormalClosure})
}

// Whether a failed dial is retried depends on what failed: a refusal the
// server may lift later is, one it will repeat is not, and a TLS failure
// (status 1015, RFC 6455 section 7.4.1) never is.
func TestDialFailureRetried(t *testing.T) {
	refusing := func(status int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, http.StatusText(status), status)
		}))
		t.Cleanup(s.Close)
		return "ws" + strings.TrimPrefix(s.URL, "http")
	}
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	for _, tt := range []struct {
		name  string
		url   string
		code  starling.StatusCode
		retry bool
	}{
		{"500", refusing(http.StatusInternalServerError), starling.StatusAbnormalClosure, true},
		{"503", refusing(http.StatusServiceUnavailable), starling.StatusAbnormalClosure, true},
		{"408", refusing(http.StatusRequestTimeout), starling.StatusAbnormalClosure, true},
		{"429", refusing(http.StatusTooManyRequests), starling.StatusAbnormalClosure, true},
		{"404", refusing(http.StatusNotFound), starling.StatusAbnormalClosure, false},
		{"499", refusing(499), starling.StatusAbnormalClosure, false},
		{"TLS to a plain server", "wss" + strings.TrimPrefix(newServer(t, nil, echo), "ws"), starling.StatusTLSHandshake, false},
		{"untrusted certificate", "wss" + strings.TrimPrefix(tlsServer.URL, "https"), starling.StatusTLSHandshake, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cl := client.New(tt.url, &client.Options{
				Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxAttempts: 1},
			})
			rec := record(t, cl)
			cl.Connect()
			rec.expect(t, client.Error{}, client.Disconnected{Code: tt.code})
			if !tt.retry {
				rec.quiet(t, 100*time.Millisecond)
				return
			}
			rec.expect(t, client.Reconnecting{Attempt: 1, Delay: time.Millisecond}, client.Error{}, client.Disconnected{Code: tt.code})
		})
	}
}
