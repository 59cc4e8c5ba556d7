package starling

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamReadDeadlineOnceClosed checks that an HTTP/2 stream passes read
// deadlines to net/http while it is open, and refuses them with
// net.ErrClosed once it is closed, without touching the ResponseWriter:
// the handler may have returned by then, and net/http's ResponseWriter
// with it (Close may read the peer's close frame after a reader closed the
// Conn). The server is net/http's own HTTP/2 server over TLS; the stream
// is made directly, as Accept makes it, since an extended CONNECT needs a
// client the root module does not have (the h3 module runs that one).
func TestStreamReadDeadlineOnceClosed(t *testing.T) {
	type result struct {
		s            *stream
		open, closed error
	}
	got := make(chan result, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &stream{w: w, rc: http.NewResponseController(w), body: r.Body}
		res := result{s: s}
		res.open = s.SetReadDeadline(time.Now().Add(time.Minute))
		_ = s.Close()
		res.closed = s.SetReadDeadline(time.Now())
		got <- res
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	resp, err := client.Post(srv.URL, "application/octet-stream", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("the request went over %s, want HTTP/2", resp.Proto)
	}
	res := <-got
	if res.open != nil {
		t.Errorf("SetReadDeadline on an open stream: %v, want nil", res.open)
	}
	if !errors.Is(res.closed, net.ErrClosed) {
		t.Errorf("SetReadDeadline on a closed stream: %v, want net.ErrClosed", res.closed)
	}
	// The handler has returned: net/http would panic on its ResponseWriter.
	if err := res.s.SetReadDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetReadDeadline once the handler returned: %v, want net.ErrClosed", err)
	}
}
