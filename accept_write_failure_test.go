package starling

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// TestAcceptAnswerFails checks that Accept reports a 101 it could not
// write, here because the connection was closed under it, instead of
// returning a Conn that no client is on.
func TestAcceptAnswerFails(t *testing.T) {
	s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) {
		hs.nc.Close()
		return hs.Accept(nil)
	})
	nc, err := net.DialTimeout("tcp", s.addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, handshakeRequest("GET / HTTP/1.1")); err != nil {
		t.Fatal(err)
	}
	r := s.result(t)
	if r.c != nil || r.err == nil || !strings.Contains(r.err.Error(), "writing the handshake response") {
		t.Fatalf("Accept returned a Conn: %t, and error %v; want only an error about writing the response", r.c != nil, r.err)
	}
}
