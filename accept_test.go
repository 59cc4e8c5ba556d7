package starling

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// acceptServer runs Accept with opts in an httptest server and reports
// each call's result.
type acceptServer struct {
	*httptest.Server
	results chan acceptResult
}

type acceptResult struct {
	c   *Conn
	err error
}

func newAcceptServer(t *testing.T, opts *AcceptOptions, before func(w http.ResponseWriter)) *acceptServer {
	t.Helper()
	s := &acceptServer{results: make(chan acceptResult, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(w)
		}
		c, err := Accept(w, r, opts)
		s.results <- acceptResult{c, err}
	}))
	t.Cleanup(s.Close)
	return s
}

// result returns the result of the next Accept call.
func (s *acceptServer) result(t *testing.T) acceptResult {
	t.Helper()
	r := receive(t, s.results, "a call to Accept")
	if r.c != nil {
		t.Cleanup(func() { r.c.CloseNow() })
	}
	return r
}

// receive returns the next value from ch, failing the test if none comes
// within testTimeout.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("waited %v for %s", testTimeout, what)
		var zero T
		return zero
	}
}

// rawRequest sends req, written by hand, to addr and returns the response
// and its body, read on the connection the request went on.
func rawRequest(t *testing.T, addr, req string) (*http.Response, string, net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	var body []byte
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ = io.ReadAll(resp.Body)
	}
	return resp, string(body), nc, br
}

// handshakeRequest builds a valid handshake request, then applies edits:
// "Name: value" replaces a header, "Name:" deletes it, and a line that
// starts with "+" adds one more header line as is.
func handshakeRequest(requestLine string, edits ...string) string {
	headers := []string{
		"Host: example.com",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + rfcKey,
		"Sec-WebSocket-Version: 13",
	}
	for _, e := range edits {
		if extra, ok := strings.CutPrefix(e, "+"); ok {
			headers = append(headers, extra)
			continue
		}
		name, value, _ := strings.Cut(e, ":")
		replaced := false
		for i, h := range headers {
			if hn, _, _ := strings.Cut(h, ":"); strings.EqualFold(hn, name) {
				headers[i] = e
				if strings.TrimSpace(value) == "" {
					headers[i] = ""
				}
				replaced = true
			}
		}
		if !replaced {
			headers = append(headers, e)
		}
	}
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, h := range headers {
		if h != "" {
			b.WriteString(h + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// refusalCases are requests that break a rule of RFC 6455 section 4.2.1 or
// 10.2, with the status, reason and header each must be refused with.
var refusalCases = []struct {
	section, name string
	request       string
	status        int
	reason        string // in the body and in Accept's error
	header        [2]string
}{
	{"4.2.1", "POST", handshakeRequest("POST / HTTP/1.1", "Content-Length: 0"), 405, "method POST not allowed", [2]string{"Allow", "GET"}},
	{"4.2.1", "HTTP/1.0", handshakeRequest("GET / HTTP/1.0"), 400, "HTTP/1.1 or later is required", [2]string{}},
	{"4.2.1", "empty Host", handshakeRequest("GET / HTTP/1.1", "Host:", "+Host:"), 400, "missing Host", [2]string{}},
	{"4.4", "version 8", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Version: 8"), 426, `unsupported Sec-WebSocket-Version "8"`, [2]string{"Sec-WebSocket-Version", "13"}},
	{"4.4", "no version", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Version:"), 426, "unsupported Sec-WebSocket-Version", [2]string{"Sec-WebSocket-Version", "13"}},
	{"4.2.1", "no Upgrade", handshakeRequest("GET / HTTP/1.1", "Upgrade:"), 400, "missing Upgrade: websocket", [2]string{}},
	{"4.2.1", "Upgrade h2c", handshakeRequest("GET / HTTP/1.1", "Upgrade: h2c"), 400, "missing Upgrade: websocket", [2]string{}},
	{"4.2.1", "no Connection", handshakeRequest("GET / HTTP/1.1", "Connection:"), 400, "missing Connection: Upgrade", [2]string{}},
	{"4.2.1", "Connection keep-alive only", handshakeRequest("GET / HTTP/1.1", "Connection: keep-alive"), 400, "missing Connection: Upgrade", [2]string{}},
	{"4.2.1", "Connection upgraded (not a token)", handshakeRequest("GET / HTTP/1.1", "Connection: upgraded"), 400, "missing Connection: Upgrade", [2]string{}},
	{"4.2.1", "Connection and Upgrade dropped by a proxy", handshakeRequest("GET / HTTP/1.1", "Connection: keep-alive", "Upgrade:"), 400, "a proxy on its way may have dropped the hop-by-hop Connection and Upgrade headers", [2]string{}},
	{"4.2.1", "no key", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key:"), 400, "want exactly one Sec-WebSocket-Key, got 0", [2]string{}},
	{"4.2.1", "key not base64", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key: not base64!!!!!!!!!!!!"), 400, "is not 16 bytes in base64", [2]string{}},
	{"4.2.1", "key of 15 bytes", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"), 400, "is not 16 bytes in base64", [2]string{}},
	{"4.2.1", "key of 17 bytes", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="), 400, "is not 16 bytes in base64", [2]string{}},
	{"4.2.1", "key of 24 bytes", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 400, "is not 16 bytes in base64", [2]string{}},
	{"4.2.1", "two keys", handshakeRequest("GET / HTTP/1.1", "+Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="), 400, "want exactly one Sec-WebSocket-Key, got 2", [2]string{}},
	{"10.2", "cross-origin", handshakeRequest("GET / HTTP/1.1", "Origin: https://evil.example"), 403, "origin not allowed: https://evil.example", [2]string{}},
	{"10.2", "null origin", handshakeRequest("GET / HTTP/1.1", "Origin: null"), 403, "origin not allowed", [2]string{}},
}

// TestAcceptRefusals checks that each rule of RFC 6455 section 4.2.1 is
// enforced with the documented status, a one-line reason in the body, and
// an error from Accept that names the rule.
func TestAcceptRefusals(t *testing.T) {
	for _, tt := range refusalCases {
		t.Run("section"+tt.section+"/"+tt.name, func(t *testing.T) {
			s := newAcceptServer(t, nil, nil)
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), tt.request)
			checkRefused(t, resp, body, tt.status, tt.reason, tt.header)
			// Allow lists the methods the resource supports: on another
			// refusal than 405, even an empty one would say that none is
			// (RFC 9110 section 10.2.1).
			if allow, ok := resp.Header["Allow"]; ok && tt.status != http.StatusMethodNotAllowed {
				t.Errorf("a %d refusal carries Allow: %q", tt.status, allow)
			}
			r := s.result(t)
			if r.c != nil || !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), tt.reason) {
				t.Errorf("Accept returned (%v, %v), want an ErrBadHandshake naming %q", r.c, r.err, tt.reason)
			}
		})
	}
}

// TestAcceptThroughMiddleware checks that Accept takes over the connection
// through a middleware's ResponseWriter wrapper that unwraps (as
// http.ResponseController does), and that a wrapper that hides the
// original fails with 500 and an error naming the wrapper's type.
func TestAcceptThroughMiddleware(t *testing.T) {
	for _, unwraps := range []bool{true, false} {
		results := make(chan error, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ww http.ResponseWriter = &hidingWriter{w}
			if unwraps {
				ww = &unwrappingWriter{hidingWriter{w}}
			}
			c, err := Accept(ww, r, nil)
			if err == nil {
				c.CloseNow()
			}
			results <- err
		}))
		c, resp, err := Dial(dialCtx(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		acceptErr := receive(t, results, "Accept")
		srv.Close()
		if unwraps {
			if err != nil || acceptErr != nil {
				t.Fatalf("through an unwrapping wrapper: Dial %v, Accept %v", err, acceptErr)
			}
			c.CloseNow()
			continue
		}
		if err == nil || resp == nil || resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("through a hiding wrapper: Dial = %v, %v; want a 500", resp, err)
		}
		if acceptErr == nil || !strings.Contains(acceptErr.Error(), "*starling.hidingWriter") || !strings.Contains(acceptErr.Error(), "Unwrap") {
			t.Fatalf("Accept error %v does not name the wrapper and Unwrap", acceptErr)
		}
	}
}

// hidingWriter is a middleware's ResponseWriter wrapper that hides the
// server's (an embedded interface promotes only its own methods);
// unwrappingWriter is one that unwraps to it.
type (
	hidingWriter     struct{ http.ResponseWriter }
	unwrappingWriter struct{ hidingWriter }
)

func (w *unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestAcceptBlamesStrippingProxy checks that a handshake missing only its
// hop-by-hop Connection and Upgrade headers, as a proxy not set to forward
// them leaves it, is refused with a hint at the proxy, and that a plain GET
// is not.
func TestAcceptBlamesStrippingProxy(t *testing.T) {
	const hint = "a proxy on its way may have dropped"
	for _, tt := range []struct {
		name    string
		headers http.Header
		hint    bool
	}{
		{"stripped handshake", http.Header{"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"}}, true},
		{"Upgrade alone stripped", http.Header{"Connection": {"Upgrade"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}, true},
		{"plain GET", http.Header{"Accept": {"text/html"}}, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header = tt.headers
		_, err := checkRequest(r)
		if err == nil || strings.Contains(err.Error(), hint) != tt.hint {
			t.Errorf("%s: %v; want the hint: %v", tt.name, err, tt.hint)
		}
	}
}

// checkRefused checks a refusal: its status, a body of one line giving the
// reason, and a header if one is named.
func checkRefused(t *testing.T, resp *http.Response, body string, status int, reason string, header [2]string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %s, want %d (body %q)", resp.Status, status, body)
	}
	if strings.Count(strings.TrimSuffix(body, "\n"), "\n") != 0 || !strings.Contains(body, reason) {
		t.Errorf("body %q, want one line containing %q", body, reason)
	}
	if header[0] != "" && resp.Header.Get(header[0]) != header[1] {
		t.Errorf("%s: %q, want %q", header[0], resp.Header.Get(header[0]), header[1])
	}
}

// TestAcceptVariants checks requests that RFC 6455 section 4.2.1 and RFC
// 9110 token rules allow in more than one spelling.
func TestAcceptVariants(t *testing.T) {
	tests := []struct{ name, request string }{
		{"Connection keep-alive, Upgrade", handshakeRequest("GET / HTTP/1.1", "Connection: keep-alive, Upgrade")},
		{"Connection in capitals", handshakeRequest("GET / HTTP/1.1", "Connection: UPGRADE")},
		{"Connection over two lines", handshakeRequest("GET / HTTP/1.1", "Connection: keep-alive", "+Connection: upgrade")},
		{"Upgrade WebSocket", handshakeRequest("GET / HTTP/1.1", "Upgrade: WebSocket")},
		{"same origin", handshakeRequest("GET / HTTP/1.1", "Origin: http://example.com")},
		{"same origin, other case", handshakeRequest("GET / HTTP/1.1", "Origin: http://EXAMPLE.com")},
		{"key with spaces around", handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Key:   "+rfcKey+"  ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAcceptServer(t, nil, nil)
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), tt.request)
			if resp.StatusCode != 101 {
				t.Fatalf("status %s (%q), want 101", resp.Status, body)
			}
			checkSwitching(t, resp, rfcAccept)
			if r := s.result(t); r.err != nil {
				t.Fatalf("Accept: %v", r.err)
			}
		})
	}
}

// checkSwitching checks the headers of a 101 answer (RFC 6455 section
// 4.2.2).
func checkSwitching(t *testing.T, resp *http.Response, accept string) {
	t.Helper()
	if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, "websocket") {
		t.Errorf("Upgrade: %q", got)
	}
	if got := resp.Header.Get("Connection"); !strings.EqualFold(got, "upgrade") {
		t.Errorf("Connection: %q", got)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != accept {
		t.Errorf("Sec-WebSocket-Accept: %q, want %q", got, accept)
	}
}

// TestAcceptOrigin checks the origin rules of RFC 6455 section 10.2 and
// their opt-outs.
func TestAcceptOrigin(t *testing.T) {
	tests := []struct {
		name   string
		opts   *AcceptOptions
		origin string
		status int
	}{
		{"no Origin", nil, "", 101},
		{"cross-origin refused", nil, "https://app.example.org", 403},
		{"pattern allows", &AcceptOptions{OriginPatterns: []string{"*.example.org"}}, "https://app.example.org", 101},
		{"pattern is case-insensitive", &AcceptOptions{OriginPatterns: []string{"*.Example.org"}}, "https://APP.example.org", 101},
		{"pattern does not match", &AcceptOptions{OriginPatterns: []string{"*.example.org"}}, "https://example.net", 403},
		{"pattern with port", &AcceptOptions{OriginPatterns: []string{"localhost:*"}}, "http://localhost:5173", 101},
		{"pattern without port", &AcceptOptions{OriginPatterns: []string{"*.example.org"}}, "https://app.example.org:8443", 403},
		{"pattern with any port", &AcceptOptions{OriginPatterns: []string{"*.example.org:*"}}, "https://app.example.org:8443", 101},
		{"any host", &AcceptOptions{OriginPatterns: []string{"*"}}, "https://anything.example", 101},
		// An opaque origin, such as a sandboxed document's, has no host
		// for a pattern to match.
		{"any host, null origin", &AcceptOptions{OriginPatterns: []string{"*"}}, "null", 403},
		{"skip check", &AcceptOptions{InsecureSkipOriginCheck: true}, "https://anything.example", 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAcceptServer(t, tt.opts, nil)
			var edits []string
			if tt.origin != "" {
				edits = append(edits, "Origin: "+tt.origin)
			}
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1", edits...))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s (%q), want %d", resp.Status, body, tt.status)
			}
			s.result(t)
		})
	}
}

// TestAcceptSubprotocol checks that the server's first supported
// subprotocol that the client offered is chosen (RFC 6455 section 4.2.2),
// and that none is named when none matches.
func TestAcceptSubprotocol(t *testing.T) {
	tests := []struct {
		server  []string
		offered []string
		want    string
	}{
		{[]string{"b", "a"}, []string{"Sec-WebSocket-Protocol: a, b"}, "b"},
		{[]string{"a", "b"}, []string{"Sec-WebSocket-Protocol: b", "+Sec-WebSocket-Protocol: a"}, "a"},
		{[]string{"chat.v2", "chat.v1"}, []string{"Sec-WebSocket-Protocol: chat.v1"}, "chat.v1"},
		{[]string{"a"}, []string{"Sec-WebSocket-Protocol: c"}, ""},
		{[]string{"a"}, nil, ""},
		{nil, []string{"Sec-WebSocket-Protocol: a"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.server, ",")+"/"+strings.Join(tt.offered, ","), func(t *testing.T) {
			s := newAcceptServer(t, &AcceptOptions{Subprotocols: tt.server}, nil)
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1", tt.offered...))
			if resp.StatusCode != 101 {
				t.Fatalf("status %s (%q)", resp.Status, body)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Fatalf("Sec-WebSocket-Protocol %q, want %q", got, tt.want)
			}
			if r := s.result(t); r.err != nil || r.c.Subprotocol() != tt.want {
				t.Fatalf("Accept: %v, Subprotocol %q, want %q", r.err, r.c.Subprotocol(), tt.want)
			}
		})
	}
}

// TestAcceptNoExtensions checks that extensions the server does not
// implement are not accepted (RFC 6455 section 9.1).
func TestAcceptNoExtensions(t *testing.T) {
	s := newAcceptServer(t, nil, nil)
	resp, _, _, _ := rawRequest(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Extensions: x-unknown-ext; foo=1"))
	if resp.StatusCode != 101 {
		t.Fatalf("status %s", resp.Status)
	}
	if got := resp.Header.Values("Sec-WebSocket-Extensions"); len(got) != 0 {
		t.Fatalf("Sec-WebSocket-Extensions %q for an unknown extension", got)
	}
	s.result(t)
}

// TestAcceptHeadersFromW checks that headers set on w before Accept go out
// with the 101 response, and cannot override the handshake's own.
func TestAcceptHeadersFromW(t *testing.T) {
	s := newAcceptServer(t, nil, func(w http.ResponseWriter) {
		w.Header().Set("X-Served-By", "starling-test")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Sec-WebSocket-Accept", "forged")
		w.Header().Set("Connection", "close")
	})
	resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1"))
	if resp.StatusCode != 101 {
		t.Fatalf("status %s (%q)", resp.Status, body)
	}
	checkSwitching(t, resp, rfcAccept)
	if got := resp.Header.Get("X-Served-By"); got != "starling-test" {
		t.Errorf("X-Served-By: %q", got)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 {
		t.Errorf("Set-Cookie: %q", got)
	}
	if got := resp.Header.Values("Sec-WebSocket-Accept"); len(got) != 1 {
		t.Errorf("Sec-WebSocket-Accept sent %d times", len(got))
	}
	if got := resp.Header.Values("Connection"); len(got) != 1 {
		t.Errorf("Connection sent as %q", got)
	}
	s.result(t)
}

// TestAcceptHeadersFromWOnSwitching checks what of the fields set on w
// goes out with the 101: a lone field does, and fields that would frame a
// body or name another protocol do not, since a 1xx response has no
// content (RFC 9110 section 8.6, RFC 9112 section 6.1) and the protocol
// switched to is websocket. The head is read as sent.
func TestAcceptHeadersFromWOnSwitching(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want map[string][]string // fields of the 101, nil for absent
	}{
		{"one field", map[string]string{"Set-Cookie": "a=1"}, map[string][]string{"Set-Cookie": {"a=1"}}},
		{"framing and upgrade fields", map[string]string{
			"Content-Length":    "0",
			"Transfer-Encoding": "chunked",
			"Content-Type":      "application/json",
			"Upgrade":           "h2c",
		}, map[string][]string{
			"Content-Length":    nil,
			"Transfer-Encoding": nil,
			"Content-Type":      nil,
			"Upgrade":           {"websocket"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAcceptServer(t, nil, func(w http.ResponseWriter) {
				for k, v := range tt.set {
					w.Header().Set(k, v)
				}
			})
			status, h := rawResponseHead(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1"))
			if status != "HTTP/1.1 101 Switching Protocols" {
				t.Fatalf("status %q", status)
			}
			for k, want := range tt.want {
				if got := h.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if r := s.result(t); r.err != nil {
				t.Fatal(r.err)
			}
		})
	}
}

// TestAcceptPipelined checks that frames the client sends in the same
// write as its request (before seeing the 101) are not lost when the
// connection is hijacked.
func TestAcceptPipelined(t *testing.T) {
	s := newAcceptServer(t, nil, nil)
	req := handshakeRequest("GET / HTTP/1.1")
	frames := append(encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("early bird")}, true, [4]byte{1, 2, 3, 4}),
		encodeFrame(rawFrame{fin: true, op: 0x2, payload: make([]byte, 3000)}, true, [4]byte{5, 6, 7, 8})...)
	resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), req+string(frames))
	if resp.StatusCode != 101 {
		t.Fatalf("status %s (%q)", resp.Status, body)
	}
	r := s.result(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, data, err := r.c.Read(ctx)
	if err != nil || typ != MessageText || string(data) != "early bird" {
		t.Fatalf("Read: %v %q %v", typ, data, err)
	}
	typ, data, err = r.c.Read(ctx)
	if err != nil || typ != MessageBinary || len(data) != 3000 {
		t.Fatalf("Read: %v %d bytes %v", typ, len(data), err)
	}
}

// TestAcceptKeyRFCExample checks Sec-WebSocket-Accept against the worked
// example of RFC 6455 section 1.3.
func TestAcceptKeyRFCExample(t *testing.T) {
	if got := acceptKey(rfcKey); got != rfcAccept {
		t.Fatalf("acceptKey(%q) = %q, want %q", rfcKey, got, rfcAccept)
	}
}

// TestAcceptTwice checks that a second Accept on a request already taken
// over fails without writing to the connection it no longer owns, which
// net/http would log as a write on a hijacked connection.
func TestAcceptTwice(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	second := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			second <- err
			return
		}
		defer c.CloseNow()
		_, err = Accept(w, r, nil)
		second <- err
	}))
	srv.Config.ErrorLog = log.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	resp, body, _, _ := rawRequest(t, srv.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1"))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s (%q), want 101", resp.Status, body)
	}
	if err := receive(t, second, "the second Accept"); !errors.Is(err, http.ErrHijacked) {
		t.Errorf("second Accept: %v, want http.ErrHijacked in the chain", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if logged.Len() > 0 {
		t.Errorf("the server logged:\n%s", logged.String())
	}
}

// writerFunc is an io.Writer made of a function.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
