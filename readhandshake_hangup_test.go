package starling

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestReadHandshakeClientHangsUp checks a client that connects and ends
// its side without sending a byte, as port scanners and TCP health checks
// do: there is no request to answer, so none is answered, and the error
// says the client hung up rather than that it sent a malformed request.
func TestReadHandshakeClientHangsUp(t *testing.T) {
	s := newHandshakeServer(t, context.Background(), nil)
	nc, err := net.DialTimeout("tcp", s.addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	r := s.result(t)
	if !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), "closed before a request") {
		t.Errorf("ReadHandshake: %v, want an ErrBadHandshake saying the connection closed before a request", r.err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
	if b, err := io.ReadAll(nc); len(b) != 0 || err != nil {
		t.Errorf("read %q, %v; want the connection closed unanswered", b, err)
	}
}
