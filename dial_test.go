package starling

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawServer is a TCP listener that answers each WebSocket handshake with
// whatever its handler writes, by hand.
type rawServer struct {
	ln       net.Listener
	requests chan *http.Request
}

// newRawServer serves each connection with answer, given the request read
// and the connection to write the answer on.
func newRawServer(t *testing.T, answer func(req *http.Request, nc net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	s := &rawServer{requests: make(chan *http.Request, 16)}
	s.ln = serveLoopback(t, func(nc net.Conn) {
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(testTimeout))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		s.requests <- req
		answer(req, nc, br)
	})
	return s
}

func (s *rawServer) url() string { return "ws://" + s.ln.Addr().String() + "/path?q=1" }

// respond101 answers with a 101 built from lines, after edit.
func respond101(edit func(lines []string, key string) []string) func(*http.Request, net.Conn, *bufio.Reader) {
	return func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		key := req.Header.Get("Sec-WebSocket-Key")
		lines := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " + rawAccept(key)}
		if edit != nil {
			lines = edit(lines, key)
		}
		io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\n"+strings.Join(lines, "\r\n")+"\r\n\r\n")
		io.Copy(io.Discard, br) // hold the connection until the client ends it
	}
}

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestDialRefused checks that a non-101 answer gives a *HandshakeError
// with the status and at most 1 KiB of the body (RFC 6455 section 4.1:
// anything but 101 ends the handshake as HTTP).
func TestDialRefused(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name, status, body string
		wantBody           string
		wantMsg            string
	}{
		{"403", "403 Forbidden", "origin not allowed\n", "origin not allowed\n", "starling: handshake refused: 403 Forbidden: origin not allowed"},
		{"200 no body", "200 OK", "", "", "starling: handshake refused: 200 OK"},
		{"500 long body", "500 Internal Server Error", long, long[:1024], "starling: handshake refused: 500 Internal Server Error: " + long[:1024]},
		{"400 two lines", "400 Bad Request", "first line\nsecond line", "first line\nsecond line", "starling: handshake refused: 400 Bad Request: first line"},
		// The body is the server's: its control characters could drive
		// the terminal that prints the error, or forge log lines.
		{"403 escapes", "403 Forbidden", "no\x1b]0;title\a\x1b[2J way \u009b1m", "no\x1b]0;title\a\x1b[2J way \u009b1m", "starling: handshake refused: 403 Forbidden: no?]0;title??[2J way ?1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
				fmt.Fprintf(nc, "HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s", tt.status, len(tt.body), tt.body)
			})
			c, resp, err := Dial(dialCtx(t), s.url(), nil)
			var he *HandshakeError
			if c != nil || !errors.As(err, &he) {
				t.Fatalf("Dial = %v, %v; want a *HandshakeError", c, err)
			}
			if he.Status != tt.status || fmt.Sprint(he.StatusCode) != tt.status[:3] || he.Body != tt.wantBody {
				t.Errorf("HandshakeError{%d, %q, %d-byte body}, want %q with %d bytes", he.StatusCode, he.Status, len(he.Body), tt.status, len(tt.wantBody))
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error %q, want %q", err, tt.wantMsg)
			}
			if resp == nil || resp.Status != tt.status {
				t.Errorf("response %v, want the refusal", resp)
			}
		})
	}
}

// TestDialRefusedByStarling checks the whole message a user sees when a
// Starling server refuses the origin.
func TestDialRefusedByStarling(t *testing.T) {
	s := newAcceptServer(t, nil, nil)
	_, _, err := Dial(dialCtx(t), s.URL, &DialOptions{Origin: "https://evil.example"})
	want := "starling: handshake refused: 403 Forbidden: origin not allowed: https://evil.example"
	if err == nil || err.Error() != want {
		t.Fatalf("Dial error %q, want %q", err, want)
	}
	s.result(t)
}

// TestDialBadResponse checks the client's checks of a 101 answer (RFC 6455
// section 4.1, the numbered list of what the client must verify).
func TestDialBadResponse(t *testing.T) {
	drop := func(name string) func([]string, string) []string {
		return func(lines []string, _ string) []string {
			var out []string
			for _, l := range lines {
				if !strings.HasPrefix(l, name+":") {
					out = append(out, l)
				}
			}
			return out
		}
	}
	add := func(line string) func([]string, string) []string {
		return func(lines []string, _ string) []string { return append(lines, line) }
	}
	tests := []struct {
		name string
		edit func([]string, string) []string
		want string
	}{
		{"wrong accept", func(lines []string, key string) []string {
			return append(drop("Sec-WebSocket-Accept")(lines, key), "Sec-WebSocket-Accept: "+rawAccept("x"+key))
		}, "does not match the key"},
		{"accept of the RFC example", func(lines []string, key string) []string {
			return append(drop("Sec-WebSocket-Accept")(lines, key), "Sec-WebSocket-Accept: "+rfcAccept)
		}, "does not match the key"},
		{"no accept", drop("Sec-WebSocket-Accept"), "does not match the key"},
		{"no Upgrade", drop("Upgrade"), "missing Upgrade: websocket"},
		{"Upgrade h2c", func(lines []string, key string) []string { return append(drop("Upgrade")(lines, key), "Upgrade: h2c") }, "missing Upgrade: websocket"},
		{"no Connection", drop("Connection"), "missing Connection: Upgrade"},
		{"unoffered subprotocol", add("Sec-WebSocket-Protocol: chat"), `subprotocol "chat", which was not offered`},
		{"unoffered extension", add("Sec-WebSocket-Extensions: x-unknown"), "x-unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t, respond101(tt.edit))
			c, _, err := Dial(dialCtx(t), s.url(), nil)
			if c != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Dial = %v, %v; want an error containing %q", c, err, tt.want)
			}
		})
	}
}

// TestDialVariants checks answers the client must accept.
func TestDialVariants(t *testing.T) {
	tests := []struct {
		name string
		edit func([]string, string) []string
	}{
		{"tokens in other case", func(lines []string, key string) []string {
			return []string{"upgrade: WebSocket", "connection: keep-alive, UPGRADE", "sec-websocket-accept: " + rawAccept(key)}
		}},
		{"extra headers", func(lines []string, key string) []string { return append(lines, "X-Extra: 1", "Set-Cookie: a=b") }},
		// An empty list chooses no subprotocol, which some servers send
		// when the client offered none.
		{"empty Sec-WebSocket-Protocol", func(lines []string, key string) []string { return append(lines, "Sec-WebSocket-Protocol: ") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t, respond101(tt.edit))
			c, resp, err := Dial(dialCtx(t), s.url(), nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.CloseNow()
			if resp.StatusCode != 101 {
				t.Fatalf("response %s", resp.Status)
			}
		})
	}
}

// TestDialSubprotocol checks that an offered subprotocol chosen by the
// server is accepted and reported.
func TestDialSubprotocol(t *testing.T) {
	s := newRawServer(t, respond101(func(lines []string, _ string) []string {
		return append(lines, "Sec-WebSocket-Protocol: v2")
	}))
	c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{Subprotocols: []string{"v1", "v2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "v2" {
		t.Fatalf("Subprotocol %q", c.Subprotocol())
	}
	req := <-s.requests
	if got := req.Header.Get("Sec-WebSocket-Protocol"); got != "v1, v2" {
		t.Fatalf("offered %q", got)
	}
}

// TestDialSubprotocolTwoChosen checks that a server naming two of the
// offered subprotocols fails the dial: it must select one (RFC 6455
// section 4.1), and the client cannot guess which it speaks.
func TestDialSubprotocolTwoChosen(t *testing.T) {
	s := newRawServer(t, respond101(func(lines []string, _ string) []string {
		return append(lines, "Sec-WebSocket-Protocol: v1, v2")
	}))
	c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{Subprotocols: []string{"v1", "v2"}})
	if c != nil || err == nil || !strings.Contains(err.Error(), `"v1, v2"`) {
		t.Fatalf("Dial = %v, %v; want an error naming the subprotocols chosen", c != nil, err)
	}
}

// TestDialRequest checks what the client sends (RFC 6455 section 4.1): a
// GET with the required headers, a fresh 16-byte random key per dial, and
// the user's headers, Host override and Origin.
func TestDialRequest(t *testing.T) {
	s := newRawServer(t, respond101(nil))
	keys := map[string]bool{}
	for i := range 3 {
		opts := &DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer t0ken"}, "X-Trace": {"a", "b"}},
			Host:       "virtual.example:8080",
			Origin:     "https://app.example",
		}
		if i == 2 {
			opts = nil
		}
		c, _, err := Dial(dialCtx(t), s.url(), opts)
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
		req := <-s.requests
		if req.Method != "GET" || req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.RequestURI != "/path?q=1" {
			t.Errorf("request line %s %s %s", req.Method, req.RequestURI, req.Proto)
		}
		for name, want := range map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"} {
			if got := req.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		key := req.Header.Get("Sec-WebSocket-Key")
		if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
			t.Errorf("Sec-WebSocket-Key %q is not 16 bytes of base64", key)
		}
		if keys[key] {
			t.Errorf("key %q used twice", key)
		}
		keys[key] = true
		if opts == nil {
			if req.Host != s.ln.Addr().String() {
				t.Errorf("default Host %q", req.Host)
			}
			// Optional fields are sent only with something to say: an
			// empty Sec-WebSocket-Protocol is not a valid list (RFC 6455
			// section 4.1), nor is an empty Origin an origin, and an
			// extension offered would be one the client did not ask for.
			for _, name := range []string{"Origin", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"} {
				if v, ok := req.Header[http.CanonicalHeaderKey(name)]; ok {
					t.Errorf("%s: %q sent by default", name, v)
				}
			}
			continue
		}
		if req.Host != "virtual.example:8080" {
			t.Errorf("Host %q", req.Host)
		}
		if req.Header.Get("Origin") != "https://app.example" || req.Header.Get("Authorization") != "Bearer t0ken" || len(req.Header.Values("X-Trace")) != 2 {
			t.Errorf("headers %v", req.Header)
		}
	}
}

// TestDialContextBoundsHandshake checks that ctx bounds a server that
// accepts the connection and never answers.
func TestDialContextBoundsHandshake(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.Copy(io.Discard, br) // say nothing
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := Dial(ctx, s.url(), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial error %v, want one wrapping context.DeadlineExceeded", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Dial did not return after its context ended")
	}
}

// TestDialCancel checks that canceling ctx (no deadline) ends the
// handshake too.
func TestDialCancel(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.Copy(io.Discard, br)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.requests
		cancel()
	}()
	_, _, err := Dial(ctx, s.url(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial error %v, want one wrapping context.Canceled", err)
	}
}

// TestDialPipelined checks that a frame the server sends in the same write
// as its 101 answer is not lost.
func TestDialPipelined(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			rawAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		nc.Write(append([]byte(resp), encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("welcome")}, false, [4]byte{})...))
		io.Copy(io.Discard, br)
	})
	c, _, err := Dial(dialCtx(t), s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	typ, data, err := c.Read(dialCtx(t))
	if err != nil || typ != MessageText || string(data) != "welcome" {
		t.Fatalf("Read: %v %q %v", typ, data, err)
	}
}

// TestDialURLs checks the URL rules of RFC 6455 section 3.
func TestDialURLs(t *testing.T) {
	for _, u := range []string{"ftp://example.com/", "ws:///nohost", "ws://example.com/#frag", "ws://example.com/#", "ws://:80/", "://bad"} {
		if _, _, err := Dial(dialCtx(t), u, nil); err == nil || !strings.Contains(err.Error(), "invalid URL") || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Dial(%q) error %v, want an invalid URL error in the chain of ErrInvalidRequest", u, err)
		}
	}
}

// TestDialInvalidRequest checks that every request Dial refuses before
// connecting says so with ErrInvalidRequest, which tells a caller that a
// retry cannot succeed, and that a refusal from the network does not.
func TestDialInvalidRequest(t *testing.T) {
	for name, opts := range map[string]*DialOptions{
		"handshake field": {HTTPHeader: http.Header{"Sec-Websocket-Key": {"x"}}},
		"field name":      {HTTPHeader: http.Header{"Bad Name": {"x"}}},
		"body field":      {HTTPHeader: http.Header{"Content-Length": {"5"}}},
		"host":            {Host: "a\r\nb"},
		"subprotocol":     {Subprotocols: []string{"a,b"}},
	} {
		if _, _, err := Dial(dialCtx(t), "ws://127.0.0.1:1/", opts); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: Dial error %v, want one in the chain of ErrInvalidRequest", name, err)
		}
	}
	_, _, err := Dial(dialCtx(t), "wss://127.0.0.1:1/", &DialOptions{Pins: []string{"not a pin"}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("bad pin: Dial error %v, want one in the chain of ErrInvalidRequest", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	if _, _, err := Dial(dialCtx(t), "ws://"+addr+"/", nil); err == nil || errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Dial to a closed port: error %v, want a network error outside ErrInvalidRequest", err)
	}
}

// TestDialTLS checks a wss:// dial against a TLS server, with the server
// name taken from the URL's host.
func TestDialTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, data, err := c.Read(r.Context())
		if err == nil {
			c.Write(context.Background(), typ, data)
		}
		c.Close(StatusNormalClosure, "")
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	// The test certificate is for example.com; dial 127.0.0.1 under
	// that name to check that SNI and verification use the URL's host.
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	c, _, err := Dial(dialCtx(t), "wss://example.com:"+port+"/", &DialOptions{
		TLSConfig: &tls.Config{RootCAs: pool},
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx := dialCtx(t)
	if err := c.Write(ctx, MessageText, []byte("over TLS")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.Read(ctx); err != nil || string(data) != "over TLS" {
		t.Fatalf("Read %q %v", data, err)
	}
}

// TestDialResponseHeadTooLong checks that a server whose 101 answer never
// ends its header fails the dial once the head passes
// maxResponseHeaderBytes, rather than filling the client's memory until ctx
// ends (which, without a deadline, it never does).
func TestDialResponseHeadTooLong(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\n")
		line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2 << 10 { // 2 MiB, then silence
			if _, err := io.WriteString(nc, line); err != nil {
				return
			}
		}
		io.Copy(io.Discard, br)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, s.url(), nil)
	if c != nil || err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("Dial = %v, %v; want an error saying the response head exceeds the limit, before ctx ends", c != nil, err)
	}
}

// TestDialRefusalWithEndlessBody checks that a refusal whose body has no
// length and never ends (the server keeps the connection open) still ends
// the dial with its HandshakeError and the body received so far, rather
// than waiting for ctx.
func TestDialRefusalWithEndlessBody(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nnot for you")
		io.Copy(io.Discard, br) // and never end the body
	})
	// No deadline, which the connection would take as its own: a cancel
	// that comes long after the wait the body is given.
	ctx, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(4*refusalBodyWait, cancel).Stop()
	_, _, err := Dial(ctx, s.url(), nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden || he.Body != "not for you" {
		t.Fatalf("Dial = %v; want a HandshakeError with the 403 and the body received", err)
	}
}

// TestDialHeaderCollision checks that HTTPHeader may not set a field the
// handshake writes itself: sending both would duplicate it (two Host
// fields, two keys), and a subprotocol offered there would be refused as
// "not offered" when the server picks it. The dial fails before sending
// anything, naming the field and the option to use instead.
func TestDialHeaderCollision(t *testing.T) {
	s := newRawServer(t, respond101(nil))
	for _, tt := range []struct {
		name, field string
		want        string
	}{
		{"Host", "Host", "DialOptions.Host"},
		{"Upgrade", "Upgrade", "Upgrade"},
		{"Connection", "Connection", "Connection"},
		{"key", "Sec-WebSocket-Key", "Sec-WebSocket-Key"},
		{"version", "Sec-WebSocket-Version", "Sec-WebSocket-Version"},
		{"subprotocol", "Sec-WebSocket-Protocol", "DialOptions.Subprotocols"},
		{"extensions", "Sec-WebSocket-Extensions", "DialOptions.Compression"},
		{"not canonical", "sec-websocket-key", "Sec-WebSocket-Key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{tt.field: {"x"}}
			c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{HTTPHeader: h})
			if c != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				if c != nil {
					c.CloseNow()
					<-s.requests
				}
				t.Fatalf("Dial with HTTPHeader[%q] = %v, %v; want an error naming %s", tt.field, c != nil, err, tt.want)
			}
		})
	}
	for _, h := range []http.Header{{"Bad Name": {"x"}}, {"X-Split\r\nX-Injected": {"x"}}} {
		if c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{HTTPHeader: h}); err == nil || !strings.Contains(err.Error(), "invalid header field name") {
			if c != nil {
				c.CloseNow()
				<-s.requests
			}
			t.Errorf("Dial with HTTPHeader %q = %v; want an invalid header field name error", h, err)
		}
	}
	if c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{Host: "a.example\r\nX-Injected: 1"}); err == nil || !strings.Contains(err.Error(), "invalid Host") {
		if c != nil {
			c.CloseNow()
			<-s.requests
		}
		t.Errorf("Dial with a Host holding a line break = %v; want an invalid Host error", err)
	}
	select {
	case req := <-s.requests:
		t.Fatalf("the server got a request: %v", req.Header)
	default:
	}
}

// TestDialUserinfo checks that user info in the URL is sent as Basic
// credentials (RFC 7617), unescaped, as net/http's Client sends it, and
// that an Authorization field in HTTPHeader wins over it.
func TestDialUserinfo(t *testing.T) {
	s := newRawServer(t, respond101(nil))
	u := "ws://al%40ice:p%3Ass%20w@" + s.ln.Addr().String() + "/path"
	for _, tt := range []struct {
		header http.Header
		want   string
	}{
		{nil, "Basic " + base64.StdEncoding.EncodeToString([]byte("al@ice:p:ss w"))},
		{http.Header{"Authorization": {"Bearer t0ken"}}, "Bearer t0ken"},
	} {
		opts := &DialOptions{HTTPHeader: tt.header}
		c, _, err := Dial(dialCtx(t), u, opts)
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
		if len(opts.HTTPHeader) != len(tt.header) {
			t.Errorf("Dial changed the caller's HTTPHeader to %v", opts.HTTPHeader)
		}
		req := <-s.requests
		if got := req.Header.Values("Authorization"); len(got) != 1 || got[0] != tt.want {
			t.Errorf("Authorization %q, want %q", got, tt.want)
		}
		if req.Host != s.ln.Addr().String() || req.RequestURI != "/path" {
			t.Errorf("Host %q, request URI %q: the user info leaked", req.Host, req.RequestURI)
		}
	}
}
