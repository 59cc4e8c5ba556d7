package starling_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// serve starts a server that accepts with opts and hands each connection
// to handle, on the handler's goroutine, and returns its ws:// URL.
func serve(t *testing.T, opts *starling.AcceptOptions, handle func(c *starling.Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			t.Error(err)
			return
		}
		handle(c)
	}))
	t.Cleanup(srv.Close)
	return wsURL(srv)
}

// wsURL turns an httptest server URL into a ws:// URL.
func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// checkGoroutines fails the test if the goroutine count has not returned to
// its level at the start once the test's cleanups have run.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// unreadPair returns a server Conn with a write timeout of 200 ms and
// the client it was dialed by, which the test never reads from: once its
// socket buffers fill, the server's writes stall.
func unreadPair(t *testing.T) (server, client *starling.Conn) {
	t.Helper()
	accepted := make(chan *starling.Conn, 1)
	url := serve(t, &starling.AcceptOptions{WriteTimeout: 200 * time.Millisecond}, func(c *starling.Conn) {
		accepted <- c
	})
	client, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	server = <-accepted
	t.Cleanup(func() { server.CloseNow() })
	return server, client
}

func TestWriteTimeoutWhenPeerStopsReading(t *testing.T) {
	checkGoroutines(t)
	c, _ := unreadPair(t)
	msg := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		werr = c.Write(context.Background(), starling.MessageBinary, msg)
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: got %v, want a deadline error", werr)
	}
	if err := c.Write(context.Background(), starling.MessageBinary, []byte("x")); err == nil {
		t.Fatal("write after a timed-out write succeeded; the connection should be closed")
	}
}

func TestIdleTimeoutClosesWithGoingAway(t *testing.T) {
	checkGoroutines(t)
	result := make(chan error, 1)
	url := serve(t, &starling.AcceptOptions{IdleTimeout: 150 * time.Millisecond}, func(c *starling.Conn) {
		_, _, err := c.Read(context.Background())
		result <- err
	})
	client, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = client.Read(context.Background())
	if got := starling.CloseStatus(err); got != starling.StatusGoingAway {
		t.Fatalf("client saw %v (status %v), want 1001", err, got)
	}
	if got := starling.CloseStatus(<-result); got != starling.StatusGoingAway {
		t.Fatalf("server ended with status %v, want 1001", got)
	}
}

func TestHandshakeTimeoutDropsSilentClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := starling.NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a handler ran for a client that never sent its request")
	}))
	srv.ReadHeaderTimeout = 300 * time.Millisecond // the default is 10s; shortened to keep the test quick
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	const n = 1000
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// Half a request line, then silence.
		if _, err := c.Write([]byte("GET /ws HTT")); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 512)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue // net/http may answer 408 before closing
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection %d still open after the handshake timeout", i)
			}
			break
		}
	}
}

func TestGroupShutdownSendsGoingAway(t *testing.T) {
	checkGoroutines(t)
	var group starling.Group
	url := serve(t, &starling.AcceptOptions{Group: &group}, func(c *starling.Conn) {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	})

	const n = 5
	errs := make(chan error, n)
	for range n {
		c, _, err := starling.Dial(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_, _, err := c.Read(context.Background())
			errs <- err
		}()
	}
	for group.Len() < n {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := group.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range n {
		err := <-errs
		var ce *starling.CloseError
		if !errors.As(err, &ce) || ce.Code != starling.StatusGoingAway || ce.Reason != "server shutting down" {
			t.Fatalf("client saw %v, want 1001 \"server shutting down\"", err)
		}
	}
	if group.Len() != 0 {
		t.Fatalf("group still holds %d connections", group.Len())
	}
}

func TestGroupShutdownDropsUnresponsivePeers(t *testing.T) {
	var group starling.Group
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := starling.Accept(w, r, &starling.AcceptOptions{Group: &group}); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	// A client that never reads never answers the close frame.
	c, _, err := starling.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	for group.Len() < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := group.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline error after dropping the silent peer", err)
	}
	if group.Len() != 0 {
		t.Fatalf("group still holds %d connections after the deadline", group.Len())
	}
}
