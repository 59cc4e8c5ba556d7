package deflate

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// server is one library's WebSocket server on a loopback listener.
type server struct {
	addr  string
	conns chan endpoint
}

// startServer serves lib with compression mode m until the test ends.
func startServer(tb testing.TB, lib library, m mode) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), conns: make(chan endpoint, 1)}
	hs := &http.Server{Handler: lib.serve(m, s.conns), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	tb.Cleanup(func() { hs.Close() })
	return s
}

func (s *server) url() string { return "ws://" + s.addr + "/" }

// accepted returns the server side of the connection just opened.
func (s *server) accepted(tb testing.TB) endpoint {
	select {
	case ep := <-s.conns:
		return ep
	case <-time.After(10 * time.Second):
		tb.Fatal("server did not accept the connection")
		return nil
	}
}
