package starling

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// TestAcceptVersionRefusalNamesUpgrade checks the 426 answer to a version
// other than 13, through net/http and through ReadHandshake: RFC 6455
// section 4.4 asks for Sec-WebSocket-Version with the versions supported,
// and RFC 9110 section 15.5.22 requires a 426 to carry an Upgrade field
// naming the protocol to upgrade to, which section 7.8 requires to come
// with the "upgrade" connection option.
func TestAcceptVersionRefusalNamesUpgrade(t *testing.T) {
	req := handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Version: 8")
	check := func(t *testing.T, addr string) {
		status, h := rawResponseHead(t, addr, req)
		if status != "HTTP/1.1 426 Upgrade Required" || h.Get("Sec-WebSocket-Version") != "13" {
			t.Fatalf("%s with Sec-WebSocket-Version %q, want 426 with 13", status, h.Get("Sec-WebSocket-Version"))
		}
		if got := h.Values("Upgrade"); len(got) != 1 || !strings.EqualFold(got[0], "websocket") {
			t.Errorf("Upgrade: %q, want websocket", got)
		}
		if !hasToken(http.Header(h), "Connection", "upgrade") {
			t.Errorf("Connection: %q, want the upgrade option", h.Values("Connection"))
		}
	}
	t.Run("net/http", func(t *testing.T) {
		s := newAcceptServer(t, nil, nil)
		check(t, s.Listener.Addr().String())
		s.result(t)
	})
	t.Run("ReadHandshake", func(t *testing.T) {
		s := newHandshakeServer(t, context.Background(), nil)
		check(t, s.addr())
		s.result(t)
	})
}

// rawResponseHead sends req to addr and returns the status line and header
// fields of the answer as sent, before net/http's reading would drop a
// Connection field that names close.
func rawResponseHead(t *testing.T, addr, req string) (string, textproto.MIMEHeader) {
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
	tr := textproto.NewReader(bufio.NewReader(nc))
	status, err := tr.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return status, h
}
