package starling

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// handshakeServer accepts TCP connections itself and answers each with
// ReadHandshake and then decide, reporting every result.
type handshakeServer struct {
	ln      net.Listener
	results chan handshakeResult
}

type handshakeResult struct {
	hs  *Handshake
	c   *Conn
	err error
}

// newHandshakeServer starts a handshakeServer on loopback. decide answers a read
// handshake; nil means Accept with default options.
func newHandshakeServer(t *testing.T, ctx context.Context, decide func(hs *Handshake) (*Conn, error)) *handshakeServer {
	t.Helper()
	if decide == nil {
		decide = func(hs *Handshake) (*Conn, error) { return hs.Accept(nil) }
	}
	s := &handshakeServer{results: make(chan handshakeResult, 16)}
	s.ln = serveLoopback(t, func(nc net.Conn) {
		hs, err := ReadHandshake(ctx, nc)
		if err != nil {
			s.results <- handshakeResult{err: err}
			return
		}
		c, err := decide(hs)
		s.results <- handshakeResult{hs, c, err}
	})
	return s
}

func (s *handshakeServer) addr() string { return s.ln.Addr().String() }

func (s *handshakeServer) result(t *testing.T) handshakeResult {
	t.Helper()
	r := receive(t, s.results, "a handshake to finish")
	if r.c != nil {
		t.Cleanup(func() { r.c.CloseNow() })
	}
	return r
}

// rawRefusalCases are refusalCases that only a server without net/http
// sees: net/http answers them itself, before any handler runs.
var rawRefusalCases = []struct {
	section, name string
	request       string
	status        int
	reason        string
	header        [2]string
}{
	{"4.2.1", "no Host", handshakeRequest("GET / HTTP/1.1", "Host:"), 400, "missing Host", [2]string{}},
}

// TestReadHandshakeRefusals checks that a server without net/http refuses
// every bad handshake as Accept under net/http does.
func TestReadHandshakeRefusals(t *testing.T) {
	for _, tt := range slices.Concat(refusalCases, rawRefusalCases) {
		t.Run("section"+tt.section+"/"+tt.name, func(t *testing.T) {
			s := newHandshakeServer(t, context.Background(), nil)
			resp, body, _, _ := rawRequest(t, s.addr(), tt.request)
			checkRefused(t, resp, body, tt.status, tt.reason, tt.header)
			if !resp.Close {
				t.Error("the refusal does not say Connection: close")
			}
			// Delimited by its length, the body is whole for the client
			// without waiting for the connection to end (RFC 9112 section 6.3).
			if resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d for a body of %d bytes", resp.ContentLength, len(body))
			}
			r := s.result(t)
			if r.c != nil || !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), tt.reason) {
				t.Errorf("Accept returned (%v, %v), want an ErrBadHandshake naming %q", r.c, r.err, tt.reason)
			}
		})
	}
}

// TestReadHandshakeUnreadable checks requests ReadHandshake itself cannot
// take: each is answered with its status and the connection is closed.
func TestReadHandshakeUnreadable(t *testing.T) {
	tests := []struct {
		name, request string
		status        int
		reason        string
	}{
		{"garbage", "HELLO\r\n\r\n", 400, "malformed request"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/1.1 is required"},
		{"header too large", handshakeRequest("GET / HTTP/1.1", "X-Big: "+strings.Repeat("a", DefaultMaxHeaderBytes)), 431, "request header exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newHandshakeServer(t, context.Background(), nil)
			resp, body, nc, br := rawRequest(t, s.addr(), tt.request)
			checkRefused(t, resp, body, tt.status, tt.reason, [2]string{})
			if r := s.result(t); !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), tt.reason) {
				t.Errorf("ReadHandshake: %v, want an ErrBadHandshake naming %q", r.err, tt.reason)
			}
			// Closed with the client's surplus unread, the connection may
			// end in a reset instead of EOF; either way, no more data.
			_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
			if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("after the refusal: read %d, %v; want the connection closed", n, err)
			}
		})
	}
}

// TestReadHandshakeSilentClient checks that a client that sends nothing is
// dropped when ctx ends, without an answer.
func TestReadHandshakeSilentClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s := newHandshakeServer(t, ctx, nil)
	nc, err := net.Dial("tcp", s.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := s.result(t)
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("ReadHandshake: %v, want context.DeadlineExceeded", r.err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
	if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %d, %v; want the connection closed unanswered", n, err)
	}
}

// TestReadHandshakeRouting checks that the request is there to decide on
// before answering: a path the server does not serve is refused with
// Refuse, the other is accepted and carries messages, including frames
// the client sent in the same write as its request.
func TestReadHandshakeRouting(t *testing.T) {
	s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) {
		if hs.Request.URL.Path != "/ws" {
			return nil, hs.Refuse(http.StatusNotFound, "no WebSocket at "+hs.Request.URL.Path)
		}
		return hs.Accept(&AcceptOptions{Subprotocols: []string{"chat"}})
	})

	resp, body, _, _ := rawRequest(t, s.addr(), handshakeRequest("GET /other HTTP/1.1"))
	checkRefused(t, resp, body, http.StatusNotFound, "no WebSocket at /other", [2]string{})
	if r := s.result(t); r.err != nil || r.c != nil {
		t.Fatalf("Refuse: (%v, %v), want no connection and no error", r.c, r.err)
	}

	early := encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("early bird")}, true, [4]byte{1, 2, 3, 4})
	req := handshakeRequest("GET /ws?room=1 HTTP/1.1", "Sec-WebSocket-Protocol: chat")
	resp, body, nc, _ := rawRequest(t, s.addr(), req+string(early))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("status %s, subprotocol %q (%q)", resp.Status, resp.Header.Get("Sec-WebSocket-Protocol"), body)
	}
	r := s.result(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := r.hs.Accept(nil); err == nil {
		t.Error("a second Accept of the same handshake succeeded")
	}
	if err := r.hs.Refuse(http.StatusGone, "late"); err == nil {
		t.Error("Refuse after Accept succeeded")
	}
	if got := r.hs.Request.URL.Query().Get("room"); got != "1" {
		t.Errorf("Request.URL room %q", got)
	}
	if r.hs.Request.RemoteAddr != nc.LocalAddr().String() {
		t.Errorf("Request.RemoteAddr %q, want %q", r.hs.Request.RemoteAddr, nc.LocalAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, data, err := r.c.Read(ctx)
	if err != nil || typ != MessageText || string(data) != "early bird" {
		t.Fatalf("Read: %v %q %v", typ, data, err)
	}
}

// TestReadHandshakeTLS checks a wss server that terminates TLS itself: the
// request carries the connection's TLS state, and a client dialing wss
// gets its messages echoed.
func TestReadHandshakeTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate and a client trusting it
	defer srv.Close()
	cert := srv.TLS.Certificates[0]
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	states := make(chan *tls.ConnectionState, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		hs, err := ReadHandshake(context.Background(), nc)
		if err != nil {
			return
		}
		states <- hs.Request.TLS
		c, err := hs.Accept(nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, p, err := c.Read(context.Background())
		if err == nil {
			_ = c.Write(context.Background(), typ, p)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := Dial(ctx, "wss://"+ln.Addr().String(), &DialOptions{TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if st := <-states; st == nil || !st.HandshakeComplete {
		t.Errorf("Request.TLS = %+v, want the completed handshake's state", st)
	}
	if err := c.Write(ctx, MessageText, []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "over tls" {
		t.Fatalf("Read: %q %v", p, err)
	}
}
