package proxy

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestConnectSkipsInformational checks that 1xx responses before the
// CONNECT's final answer are skipped (RFC 9110 section 15.2: a client must
// parse any number of them, even unasked), and that the tunnel's first
// bytes, sent in the same packet, are kept.
func TestConnectSkipsInformational(t *testing.T) {
	for name, before := range map[string]string{
		"100 Continue":    "HTTP/1.1 100 Continue\r\n\r\n",
		"103 Early Hints": "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
		"several":         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			addr := scriptedProxy(t, before+"HTTP/1.1 200 Connection established\r\n\r\nhello")
			c, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
			if err != nil {
				t.Fatalf("DialContext: %v", err)
			}
			defer c.Close()
			if got, err := io.ReadAll(c); string(got) != "hello" || err != nil {
				t.Fatalf("tunnel read %q, %v; want %q", got, err, "hello")
			}
		})
	}
}

// TestConnectInformationalThenRefusal checks that a refusal after a 1xx is
// reported with the refusal's status.
func TestConnectInformationalThenRefusal(t *testing.T) {
	addr := scriptedProxy(t, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n")
	_, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 407 || !errors.Is(err, ErrAuth) {
		t.Fatalf("error = %v, want a 407 *Error matching ErrAuth", err)
	}
}

// TestConnect101IsRefusal checks that a 101 answer to CONNECT, unlike
// other 1xx, is final (RFC 9110 section 15.2.2) and, not being a 2xx,
// opens no tunnel (section 9.3.6).
func TestConnect101IsRefusal(t *testing.T) {
	addr := scriptedProxy(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
	_, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 101 {
		t.Fatalf("error = %v, want a 101 *Error", err)
	}
}

// TestEndlessInformational checks that 1xx responses share the bound on
// the response head, so that a proxy cannot keep the client reading them.
func TestEndlessInformational(t *testing.T) {
	in := strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxResponseHead/25+1) + "HTTP/1.1 200 OK\r\n\r\n"
	if _, err := readResponse(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, errHeadTooLong) {
		t.Fatalf("error = %v, want %v", err, errHeadTooLong)
	}
}
