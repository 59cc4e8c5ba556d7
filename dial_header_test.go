package starling

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestDialInvalidSubprotocols checks that subprotocols RFC 6455 section
// 4.1 does not allow (each must be a token, and all unique) are refused
// before anything is sent, instead of reaching the server as another list
// than the one given: "a,b" would be offered as two, and a server choosing
// "a" would then fail the dial with a subprotocol "not offered".
func TestDialInvalidSubprotocols(t *testing.T) {
	s := newRawServer(t, respond101(func(lines []string, _ string) []string {
		return append(lines, "Sec-WebSocket-Protocol: a")
	}))
	for _, protos := range [][]string{{"a,b"}, {"a", ""}, {"a b"}, {"a", "a"}, {"a\r\nX-Injected: 1"}, {"é"}} {
		c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{Subprotocols: protos})
		if c != nil {
			c.CloseNow()
		}
		if err == nil || !strings.Contains(err.Error(), "invalid subprotocol") {
			t.Errorf("Dial with Subprotocols %q: %v, want an invalid subprotocol error", protos, err)
		}
	}
	select {
	case req := <-s.requests:
		t.Errorf("a request reached the server, offering %q", req.Header.Get("Sec-WebSocket-Protocol"))
	default:
	}
}

// TestDialBodyFields checks that HTTPHeader may not announce content: the
// handshake request has none (RFC 6455 section 4.1), and a server or proxy
// believing the field would take the first frames for the body, or wait
// for a body that never comes.
func TestDialBodyFields(t *testing.T) {
	s := newRawServer(t, respond101(nil))
	for _, h := range []http.Header{{"Content-Length": {"5"}}, {"Transfer-Encoding": {"chunked"}}, {"content-length": {"0"}}} {
		c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{HTTPHeader: h})
		if c != nil {
			c.CloseNow()
		}
		if err == nil || !strings.Contains(err.Error(), "DialOptions.HTTPHeader may not hold") {
			t.Errorf("Dial with HTTPHeader %q: %v, want an error refusing the field", h, err)
		}
	}
	select {
	case req := <-s.requests:
		t.Errorf("a request reached the server, with Content-Length %d and Transfer-Encoding %q", req.ContentLength, req.TransferEncoding)
	default:
	}
}

// TestDialControlCharactersInFields checks that field values with a
// control character other than tab, which RFC 9110 section 5.5 does not
// allow, are refused before anything is sent, and that a tab, which it
// allows, goes through.
func TestDialControlCharactersInFields(t *testing.T) {
	s := newRawServer(t, respond101(nil))
	for _, opts := range []*DialOptions{
		{HTTPHeader: http.Header{"X-Token": {"a\x7fb"}}},
		{HTTPHeader: http.Header{"X-Token": {"a\x00b"}}},
		{Origin: "https://a.example\x7f"},
		{Host: "a.example\x7f"},
		// No host has a space in it (RFC 3986 section 3.2.2).
		{Host: "a.example b.example"},
	} {
		c, _, err := Dial(dialCtx(t), s.url(), opts)
		if c != nil {
			c.CloseNow()
		}
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Dial with %q %q %q: %v, want ErrInvalidRequest", opts.HTTPHeader, opts.Origin, opts.Host, err)
		}
	}
	select {
	case req := <-s.requests:
		t.Errorf("a request reached the server: %v", req.Header)
	default:
	}
	c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{HTTPHeader: http.Header{"X-Token": {"a\tb"}}})
	if err != nil {
		t.Fatalf("Dial with a tab in a value: %v", err)
	}
	c.CloseNow()
	if req := <-s.requests; req.Header.Get("X-Token") != "a\tb" {
		t.Errorf("X-Token %q, want %q", req.Header.Get("X-Token"), "a\tb")
	}
}
