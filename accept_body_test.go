package starling

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// bodyRequests are handshake requests that carry content. The content
// would come before any frame (RFC 9110 section 7.8: the protocol switches
// where the request ends), so a server that upgraded would read it as
// frames; each is refused instead.
var bodyRequests = []struct{ name, request string }{
	{"Content-Length", handshakeRequest("GET / HTTP/1.1", "Content-Length: 5") + "hello"},
	{"chunked", handshakeRequest("GET / HTTP/1.1", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n"},
}

const bodyReason = "a WebSocket handshake request has no content"

// TestAcceptRequestWithBody checks that Accept under net/http refuses a
// handshake request with content, with 400 and a reason, instead of
// reading the content as frames.
func TestAcceptRequestWithBody(t *testing.T) {
	for _, tt := range bodyRequests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAcceptServer(t, nil, nil)
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), tt.request+string(earlyFrame()))
			checkRefused(t, resp, body, 400, bodyReason, [2]string{})
			if r := s.result(t); r.c != nil || !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), bodyReason) {
				t.Errorf("Accept returned (%v, %v), want an ErrBadHandshake naming %q", r.c, r.err, bodyReason)
			}
		})
	}
}

// TestReadHandshakeRequestWithBody checks the same of Handshake.Accept,
// without net/http.
func TestReadHandshakeRequestWithBody(t *testing.T) {
	for _, tt := range bodyRequests {
		t.Run(tt.name, func(t *testing.T) {
			s := newHandshakeServer(t, context.Background(), nil)
			resp, body, _, _ := rawRequest(t, s.addr(), tt.request+string(earlyFrame()))
			checkRefused(t, resp, body, 400, bodyReason, [2]string{})
			if r := s.result(t); r.c != nil || !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), bodyReason) {
				t.Errorf("Accept returned (%v, %v), want an ErrBadHandshake naming %q", r.c, r.err, bodyReason)
			}
		})
	}
}

// TestAcceptEmptyContentLength checks that Content-Length: 0, which some
// clients send on every request, is no content and is accepted, and that a
// frame sent with the request still arrives.
func TestAcceptEmptyContentLength(t *testing.T) {
	req := handshakeRequest("GET / HTTP/1.1", "Content-Length: 0") + string(earlyFrame())
	check := func(t *testing.T, addr string, result func() (*Conn, error)) {
		resp, body, _, _ := rawRequest(t, addr, req)
		if resp.StatusCode != 101 {
			t.Fatalf("status %s (%q), want 101", resp.Status, body)
		}
		c, err := result()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if typ, data, err := c.Read(ctx); err != nil || typ != MessageText || string(data) != "early bird" {
			t.Fatalf("Read: %v %q %v", typ, data, err)
		}
	}
	t.Run("net/http", func(t *testing.T) {
		s := newAcceptServer(t, nil, nil)
		check(t, s.Listener.Addr().String(), func() (*Conn, error) { r := s.result(t); return r.c, r.err })
	})
	t.Run("ReadHandshake", func(t *testing.T) {
		s := newHandshakeServer(t, context.Background(), nil)
		check(t, s.addr(), func() (*Conn, error) { r := s.result(t); return r.c, r.err })
	})
}

// earlyFrame is a masked text frame "early bird", as a client sends it.
func earlyFrame() []byte {
	return encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("early bird")}, true, [4]byte{1, 2, 3, 4})
}
