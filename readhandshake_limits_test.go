package starling

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// paddedRequest returns a valid handshake request whose head is exactly
// size bytes long, padded with an X-Pad field.
func paddedRequest(t *testing.T, size int) string {
	t.Helper()
	req := handshakeRequest("GET / HTTP/1.1", "X-Pad: ")
	pad := size - len(req)
	if pad < 0 {
		t.Fatalf("a request of %d bytes is too short for a handshake", size)
	}
	return handshakeRequest("GET / HTTP/1.1", "X-Pad: "+strings.Repeat("p", pad))
}

// TestReadHandshakeHeadLimit checks the bound ReadHandshake documents: a
// request head of DefaultMaxHeaderBytes is read and accepted, one byte
// more is refused with 431.
func TestReadHandshakeHeadLimit(t *testing.T) {
	tests := []struct {
		size   int
		status int
	}{
		{DefaultMaxHeaderBytes, http.StatusSwitchingProtocols},
		{DefaultMaxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		s := newHandshakeServer(t, context.Background(), nil)
		req := paddedRequest(t, tt.size)
		if len(req) != tt.size {
			t.Fatalf("padded request of %d bytes, want %d", len(req), tt.size)
		}
		resp, body, _, _ := rawRequest(t, s.addr(), req)
		if resp.StatusCode != tt.status {
			t.Errorf("head of %d bytes: status %s (%q), want %d", tt.size, resp.Status, body, tt.status)
		}
		r := s.result(t)
		if accepted := r.err == nil; accepted != (tt.status == http.StatusSwitchingProtocols) {
			t.Errorf("head of %d bytes: ReadHandshake or Accept returned %v", tt.size, r.err)
		}
	}
}

// TestReadHandshakeDeadlines checks the time bounds around a handshake
// read by ReadHandshake, each in a subtest of its own since each waits out
// DefaultHandshakeTimeout, which they do side by side.
func TestReadHandshakeDeadlines(t *testing.T) {
	// A client that starts a request and never ends it is answered 408 and
	// dropped even though ctx never ends: with context.Background(), as
	// servers commonly pass, the deadline is all that frees the connection
	// and its goroutine. The answer itself gets time to be written.
	t.Run("slow client", func(t *testing.T) {
		t.Parallel()
		s := newHandshakeServer(t, context.Background(), nil)
		resp, body := lateExchange(t, s.addr(), "GET / HTTP/1.1\r\nHost: example.com\r\n")
		checkRefused(t, resp, body, http.StatusRequestTimeout, "no complete request within", [2]string{})
		if r := s.result(t); !errors.Is(r.err, ErrBadHandshake) {
			t.Errorf("ReadHandshake: %v, want an ErrBadHandshake", r.err)
		}
	})
	// DefaultHandshakeTimeout bounds the client's request, not the
	// server's decision nor the connection: an Accept that comes later,
	// after a slow lookup of the client's credentials say, still answers,
	// and a connection accepted at once still carries messages after it.
	t.Run("after the bound", func(t *testing.T) {
		t.Parallel()
		s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) {
			if hs.Request.URL.Path == "/late" {
				time.Sleep(DefaultHandshakeTimeout + time.Second)
			}
			return hs.Accept(nil)
		})
		resp, body, early, _ := rawRequest(t, s.addr(), handshakeRequest("GET / HTTP/1.1"))
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %s (%q), want 101", resp.Status, body)
		}
		first := s.result(t)
		if first.err != nil {
			t.Fatal(first.err)
		}

		frame := encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("still here")}, true, [4]byte{1, 2, 3, 4})
		resp, body = lateExchange(t, s.addr(), handshakeRequest("GET /late HTTP/1.1")+string(frame))
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("late Accept: status %s (%q), want 101", resp.Status, body)
		}
		late := s.result(t)
		if late.err != nil {
			t.Fatal(late.err)
		}
		_ = early.SetDeadline(time.Now().Add(testTimeout))
		if _, err := early.Write(frame); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for name, c := range map[string]*Conn{"late": late.c, "first": first.c} {
			if _, p, err := c.Read(ctx); err != nil || string(p) != "still here" {
				t.Errorf("Read on the %s connection: %q, %v", name, p, err)
			}
		}
	})
}

// lateExchange sends req to addr and waits for an answer for longer than
// DefaultHandshakeTimeout. The body is read unless the answer is a 101.
func lateExchange(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(DefaultHandshakeTimeout + testTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	var body []byte
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ = io.ReadAll(resp.Body)
	}
	return resp, string(body)
}
