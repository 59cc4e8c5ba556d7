package client_test

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// The request's headers and Host, and the options' headers, origin and
// subprotocols, all go out with the handshake.
func TestNewFromRequest(t *testing.T) {
	seen := make(chan *http.Request, 1)
	url := newServer(t, &starling.AcceptOptions{Subprotocols: []string{"v2"}, InsecureSkipOriginCheck: true}, func(c *starling.Conn, r *http.Request) {
		seen <- r
		c.Close(starling.StatusNormalClosure, "")
	})
	req, err := http.NewRequest("GET", url+"/path?q=1", nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer t")
	req.Host = "chat.example"
	cl := client.NewFromRequest(req, &client.Options{
		Header:       http.Header{"X-Extra": {"1"}},
		Origin:       "https://app.example",
		Subprotocols: []string{"v1", "v2"},
	})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{Subprotocol: "v2"}, client.Disconnected{Code: starling.StatusNormalClosure})
	r := recv(t, seen)
	for k, want := range map[string]string{"Authorization": "Bearer t", "X-Extra": "1", "Origin": "https://app.example"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if r.Host != "chat.example" || r.URL.RequestURI() != "/path?q=1" {
		t.Errorf("request for %s%s, want chat.example/path?q=1", r.Host, r.URL.RequestURI())
	}
}

// A message over ReadLimit fails the connection with 1009.
func TestReadLimit(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		c.Write(bg, starling.MessageBinary, make([]byte, 2000))
		c.Read(bg)
	})
	cl := client.New(url, &client.Options{ReadLimit: 1000})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{}, client.Error{Err: starling.ErrMessageTooBig})
	ev := rec.next(t)
	if d, ok := ev.(client.Disconnected); !ok || d.Code != starling.StatusMessageTooBig {
		t.Fatalf("got %#v, want Disconnected with 1009", ev)
	}
}

func TestCompression(t *testing.T) {
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1}
	url := newServer(t, &starling.AcceptOptions{Compression: comp}, echo)
	cl := client.New(url, &client.Options{Compression: comp})
	rec := record(t, cl)
	cl.Connect()
	ev := rec.next(t)
	if c, ok := ev.(client.Connected); !ok || !strings.Contains(c.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("got %#v, want Connected with permessage-deflate", ev)
	}
	msg := strings.Repeat("compressible ", 100)
	must(t, cl.WriteString(msg, nil))
	rec.expect(t, client.Text{Data: msg})
}

// The client dials through an HTTP CONNECT proxy.
func TestProxy(t *testing.T) {
	target := strings.TrimPrefix(newServer(t, nil, echo), "ws://")
	connects := make(chan string, 1)
	ln := listen(t)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != http.MethodConnect {
			return
		}
		connects <- req.Host
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			return
		}
		defer up.Close()
		io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(up, br)
			up.Close() // the client left: so does the server's side
		}()
		io.Copy(nc, up)
	}()
	proxyURL := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	cl := client.New("ws://"+target, &client.Options{Proxy: func(*url.URL) (*url.URL, error) { return proxyURL, nil }})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	if got := recv(t, connects); got != target {
		t.Errorf("proxy asked for %q, want %q", got, target)
	}
	must(t, cl.WriteString("through", nil))
	rec.expect(t, client.Text{Data: "through"})
}

// A pinned key lets a self-signed server in; a wrong pin fails the TLS
// handshake, which is reported with 1015 and not retried.
func TestPins(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	s.StartTLS()
	t.Cleanup(s.Close)
	url := "wss" + strings.TrimPrefix(s.URL, "https")
	pin := starling.PinOf(s.Certificate())

	cl := client.New(url, &client.Options{Pins: []string{pin}, PinOnly: true})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	must(t, cl.WriteString("pinned", nil))
	rec.expect(t, client.Text{Data: "pinned"})

	wrong := strings.Repeat("A", 43) + "="
	cl = client.New(url, &client.Options{Pins: []string{wrong}, PinOnly: true, Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond}})
	rec = record(t, cl)
	cl.Connect()
	rec.expect(t, client.Error{Err: starling.ErrPinMismatch}, client.Disconnected{Code: starling.StatusTLSHandshake})
	rec.quiet(t, 100*time.Millisecond)
}

// An Executor runs every delivery, one at a time and in order.
func TestExecutor(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		for i := range 50 {
			c.Write(bg, starling.MessageBinary, []byte{byte(i)})
		}
		c.Close(starling.StatusNormalClosure, "")
	})
	// A loop of its own, as an application's main loop would be.
	loop := make(chan func(), 1)
	go func() {
		for f := range loop {
			f()
		}
	}()
	t.Cleanup(func() { close(loop) })
	var onLoop bool
	cl := client.New(url, &client.Options{Executor: func(f func()) {
		loop <- func() { onLoop = true; f(); onLoop = false }
	}})
	events := make(chan client.Event, 100)
	cl.OnEvent(func(ev client.Event) {
		if !onLoop {
			t.Error("event delivered outside the executor")
		}
		events <- ev
	})
	cl.Connect()
	rec := &recorder{ch: events}
	rec.expect(t, client.Connected{})
	for i := range 50 {
		rec.expect(t, client.Binary{Data: []byte{byte(i)}})
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
}

// An Executor that runs each delivery on a goroutine of its own still has
// them one at a time and in order: the client waits for each to finish.
func TestExecutorGoroutineEach(t *testing.T) {
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		for i := range 50 {
			c.Write(bg, starling.MessageBinary, []byte{byte(i)})
		}
		c.Close(starling.StatusNormalClosure, "")
	})
	cl := client.New(url, &client.Options{Executor: func(f func()) { go f() }})
	var mu sync.Mutex
	var got []client.Event
	cl.OnEvent(func(ev client.Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		time.Sleep(time.Millisecond) // a later delivery would overtake
	})
	cl.Connect()
	want := []client.Event{client.Connected{}}
	for i := range 50 {
		want = append(want, client.Binary{Data: []byte{byte(i)}})
	}
	want = append(want, client.Disconnected{Code: starling.StatusNormalClosure})
	for deadline := time.Now().Add(eventTimeout); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("%d events delivered, want %d", len(got), len(want))
	}
	for i := range want {
		if err := match(got[i], want[i]); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

func TestOneReceiver(t *testing.T) {
	panics := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	cl := client.New("ws://127.0.0.1:1", nil)
	panics("Connect without a receiver", cl.Connect)
	ch := cl.Events()
	if cl.Events() != ch {
		t.Error("Events returned a different channel")
	}
	panics("OnEvent after Events", func() { cl.OnEvent(func(client.Event) {}) })
	panics("SetDelegate after Events", func() { cl.SetDelegate(&chat{}) })

	cl = client.New("ws://127.0.0.1:1", nil)
	cl.OnEvent(func(client.Event) {})
	panics("Events after OnEvent", func() { cl.Events() })
	panics("SetDelegate after OnEvent", func() { cl.SetDelegate(&chat{}) })

	cl = client.New("ws://127.0.0.1:1", nil)
	cl.SetDelegate(&chat{})
	panics("OnEvent after SetDelegate", func() { cl.OnEvent(func(client.Event) {}) })

	// A nil receiver would leave the events nowhere to go.
	cl = client.New("ws://127.0.0.1:1", nil)
	panics("SetDelegate(nil)", func() { cl.SetDelegate(nil) })
	panics("OnEvent(nil)", func() { cl.OnEvent(nil) })
}

// A URL that no dial can succeed with fails once, and is not retried:
// no scheme or a wrong one, no host name (":80" alone is a port), or a
// fragment, which RFC 6455 section 3 forbids.
func TestInvalidURL(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "ws://", "://", "ws://:80/", "ws://127.0.0.1:1/#frag", "ws://127.0.0.1:1/#"} {
		cl := client.New(u, &client.Options{Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond}})
		rec := record(t, cl)
		cl.Connect()
		rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
		rec.quiet(t, 50*time.Millisecond) // not retried
	}
}

// A proxy that refuses the CONNECT is a refused handshake: retried only if
// the proxy may accept later (5xx, 408, 429), not for want of credentials
// or permission, which no retry brings.
func TestProxyRefused(t *testing.T) {
	for _, tt := range []struct {
		status string
		retry  bool
	}{
		{"407 Proxy Authentication Required", false},
		{"403 Forbidden", false},
		{"502 Bad Gateway", true},
	} {
		t.Run(tt.status, func(t *testing.T) {
			ln := listen(t)
			go func() {
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					if _, err := http.ReadRequest(bufio.NewReader(nc)); err == nil {
						io.WriteString(nc, "HTTP/1.1 "+tt.status+"\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n")
					}
					nc.Close()
				}
			}()
			proxyURL := &url.URL{Scheme: "http", Host: ln.Addr().String()}
			cl := client.New("ws://127.0.0.1:1", &client.Options{
				Proxy:     func(*url.URL) (*url.URL, error) { return proxyURL, nil },
				Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxAttempts: 1},
			})
			rec := record(t, cl)
			cl.Connect()
			ev := rec.next(t)
			var pe *starling.ProxyError
			if e, ok := ev.(client.Error); !ok || !errors.As(e.Err, &pe) {
				t.Fatalf("got %#v, want Error with a ProxyError", ev)
			}
			rec.expect(t, client.Disconnected{Code: starling.StatusAbnormalClosure})
			if !tt.retry {
				rec.quiet(t, 100*time.Millisecond)
				return
			}
			rec.expect(t, client.Reconnecting{Attempt: 1, Delay: time.Millisecond}, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
		})
	}
}

// Options that make every handshake request malformed fail once, and are
// not retried: a field the handshake sets itself, or a field name that is
// not a token (RFC 9110 section 5.1).
func TestInvalidHeader(t *testing.T) {
	for _, h := range []http.Header{
		{"Sec-Websocket-Protocol": {"chat"}},
		{"Upgrade": {"h2c"}},
		{"Bad Name": {"x"}},
	} {
		cl := client.New("ws://127.0.0.1:1", &client.Options{
			Header:    h,
			Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond},
		})
		rec := record(t, cl)
		cl.Connect()
		rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
		rec.quiet(t, 50*time.Millisecond) // not retried
	}
}

// A pin that is not one fails the dial once, and is not retried.
func TestInvalidPin(t *testing.T) {
	cl := client.New("WSS://127.0.0.1:1", &client.Options{
		Pins:      []string{"sha256/not-a-pin"},
		Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond},
	})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	rec.quiet(t, 50*time.Millisecond) // not retried
}

// A SOCKS5 proxy that refuses the credentials (RFC 1929) refuses them
// again on every retry: the dial fails once with ErrProxyAuth and is not
// retried.
func TestSOCKSAuthRefused(t *testing.T) {
	ln := listen(t)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			// Greeting: version, methods; choose username/password (2).
			// Then version 1, username, password; answer failure.
			br := bufio.NewReader(nc)
			hdr := make([]byte, 2)
			if _, err := io.ReadFull(br, hdr); err == nil {
				io.ReadFull(br, make([]byte, hdr[1]))
				nc.Write([]byte{5, 2})
				if _, err := io.ReadFull(br, hdr); err == nil {
					io.ReadFull(br, make([]byte, hdr[1]))
					plen, _ := br.ReadByte()
					io.ReadFull(br, make([]byte, plen))
					nc.Write([]byte{1, 1})
				}
			}
			nc.Close()
		}
	}()
	proxyURL := &url.URL{Scheme: "socks5", Host: ln.Addr().String(), User: url.UserPassword("alice", "wrong")}
	cl := client.New("ws://127.0.0.1:1", &client.Options{
		Proxy:     func(*url.URL) (*url.URL, error) { return proxyURL, nil },
		Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Error{Err: starling.ErrProxyAuth}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	rec.quiet(t, 100*time.Millisecond)
}
