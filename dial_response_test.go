package starling

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestDialInformationalResponses checks that 1xx responses before the 101
// are skipped: RFC 9110 section 15.2 requires a client to parse any number
// of them before the final response, even unasked, and a server or CDN may
// send 103 Early Hints. A frame sent right after the 101 is not lost.
func TestDialInformationalResponses(t *testing.T) {
	tests := []struct{ name, before string }{
		{"100 Continue", "HTTP/1.1 100 Continue\r\n\r\n"},
		{"103 Early Hints", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"},
		{"several", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
				resp := tt.before + "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
					rawAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
				nc.Write(append([]byte(resp), encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("after hints")}, false, [4]byte{})...))
				io.Copy(io.Discard, br)
			})
			c, resp, err := Dial(dialCtx(t), s.url(), nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.CloseNow()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("response %s, want the 101", resp.Status)
			}
			typ, data, err := c.Read(dialCtx(t))
			if err != nil || typ != MessageText || string(data) != "after hints" {
				t.Fatalf("Read: %v %q %v", typ, data, err)
			}
		})
	}
}

// TestDialInformationalThenRefusal checks that a refusal after a 1xx is
// reported as the refusal, not as the 1xx.
func TestDialInformationalThenRefusal(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.WriteString(nc, "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope")
	})
	_, _, err := Dial(dialCtx(t), s.url(), nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden || he.Body != "nope" {
		t.Fatalf("Dial error %v, want the 403 refusal", err)
	}
}

// TestDialDuplicateAccept checks that a 101 with two Sec-WebSocket-Accept
// fields fails even when one is right: the field's value is then the list
// of both, which is not the one value RFC 6455 section 4.1 requires.
func TestDialDuplicateAccept(t *testing.T) {
	for _, order := range []string{"right first", "wrong first"} {
		t.Run(order, func(t *testing.T) {
			s := newRawServer(t, respond101(func(lines []string, key string) []string {
				wrong := "Sec-WebSocket-Accept: " + rawAccept("x"+key)
				if order == "right first" {
					return append(lines, wrong)
				}
				return append([]string{wrong}, lines...)
			}))
			c, _, err := Dial(dialCtx(t), s.url(), nil)
			if c != nil || err == nil || !strings.Contains(err.Error(), "Sec-WebSocket-Accept") {
				t.Fatalf("Dial = %v, %v; want an error about Sec-WebSocket-Accept", c, err)
			}
		})
	}
}

// TestDialResponseCut checks that a server that closes the connection in
// the middle of its response head is reported as such, wherever the cut
// falls, and not as a malformed response: a status line or a field cut
// short is not the server's syntax error.
func TestDialResponseCut(t *testing.T) {
	full := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	for _, n := range []int{0, 4, 11, 20, 36, 40, 60, len(full) - 2, len(full) - 1} {
		t.Run(fmt.Sprintf("after %d bytes", n), func(t *testing.T) {
			s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
				io.WriteString(nc, full[:n])
			})
			_, _, err := Dial(dialCtx(t), s.url(), nil)
			if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "closed the connection") {
				t.Fatalf("Dial error %v, want io.ErrUnexpectedEOF and a message saying the server closed the connection", err)
			}
			// A server that closes before a byte of answer is most often
			// not a WebSocket server; one cut short may be a broken proxy.
			where := "in the middle of its response"
			if n == 0 {
				where = "without answering"
			}
			if !strings.Contains(err.Error(), where) {
				t.Errorf("Dial error %v, want it to say the server closed %s", err, where)
			}
		})
	}
}

// TestDialEndlessInformational checks that 1xx responses count against the
// bound on the response head.
func TestDialEndlessInformational(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		one := []byte("HTTP/1.1 100 Continue\r\n\r\n")
		for range maxResponseHeaderBytes/len(one) + 1 {
			if _, err := nc.Write(one); err != nil {
				return
			}
		}
	})
	_, _, err := Dial(dialCtx(t), s.url(), nil)
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("Dial error %v, want one saying the response head is too long", err)
	}
}

// TestDialResponseHeadLimit checks the bound Dial documents on the head
// of the server's answer: a 101 whose head is 1 MiB long is taken, one
// byte more fails the dial.
func TestDialResponseHeadLimit(t *testing.T) {
	for _, size := range []int{maxResponseHeaderBytes, maxResponseHeaderBytes + 1} {
		s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
			head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + rawAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\nX-Pad: "
			head += strings.Repeat("p", size-len(head)-len("\r\n\r\n")) + "\r\n\r\n"
			io.WriteString(nc, head)
			io.Copy(io.Discard, br)
		})
		c, _, err := Dial(dialCtx(t), s.url(), nil)
		if size <= maxResponseHeaderBytes {
			if err != nil {
				t.Fatalf("head of %d bytes: Dial: %v", size, err)
			}
			c.CloseNow()
			continue
		}
		if c != nil || err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Fatalf("head of %d bytes: Dial = %v, %v; want an error saying the head exceeds the limit", size, c != nil, err)
		}
	}
}

// TestDialMalformedResponse checks that a response the server sent whole
// but malformed is reported as malformed, naming the fault, and not as a
// connection closed under it.
func TestDialMalformedResponse(t *testing.T) {
	s := newRawServer(t, func(req *http.Request, nc net.Conn, br *bufio.Reader) {
		io.WriteString(nc, "HTTP/1.1 1O1 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
		io.Copy(io.Discard, br) // hold the connection open
	})
	_, _, err := Dial(dialCtx(t), s.url(), nil)
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "closed") || !strings.Contains(err.Error(), "1O1") {
		t.Fatalf("Dial error %v, want one naming the malformed status code", err)
	}
}
