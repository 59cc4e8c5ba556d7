package h3_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/leakcheck"
)

// The HTTP/2 tests (RFC 8441) live in this module because it already
// needs golang.org/x/net, whose HTTP/2 Transport sends extended CONNECT;
// the root module has no such dependency.

// TestMain runs the tests with GODEBUG=http2xconnect=1, without which Go's
// HTTP/2 server refuses extended CONNECT: net/http reads it once, at
// start, so the test binary starts itself again with it if needed. Every
// goroutine a test starts must be gone once the tests end.
func TestMain(m *testing.M) {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG="+strings.TrimPrefix(os.Getenv("GODEBUG")+",http2xconnect=1", ","))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	leakcheck.Main(m)
}

// startH2 serves h with cleartext HTTP/2 on loopback until the test ends,
// and returns its address.
func startH2(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: &protocols, Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// h2Transport is x/net's HTTP/2 client over cleartext TCP, whose
// connections close when the test ends.
func h2Transport(t *testing.T) *http2.Transport {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// dialH2 opens a WebSocket to addr's path over HTTP/2 through tr.
func dialH2(t *testing.T, tr http.RoundTripper, addr, path string, opts starling.DialOptions) *starling.Conn {
	t.Helper()
	opts.HTTP2Transport = tr
	c, resp, err := starling.Dial(ctx(t), "ws://"+addr+path, &opts)
	if err != nil {
		t.Fatalf("Dial over HTTP/2: %v", err)
	}
	if resp.ProtoMajor != 2 {
		t.Fatalf("answered over %s, want HTTP/2", resp.Proto)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// roundTrip writes p and checks that it comes back.
func roundTrip(t *testing.T, c *starling.Conn, p string) {
	t.Helper()
	if err := c.Write(ctx(t), starling.MessageText, []byte(p)); err != nil {
		t.Fatalf("Write %q: %v", p, err)
	}
	if _, got, err := c.Read(ctx(t)); err != nil || string(got) != p {
		t.Fatalf("Read: %q, %v; want %q", got, err, p)
	}
}

// TestHTTP2QuietWriterSurvives checks that a WebSocket over HTTP/2 that
// writes nothing for longer than its WriteTimeout stays open, on either
// side, as it does over TCP: the write timeout bounds a write that waits,
// not the time between writes.
func TestHTTP2QuietWriterSurvives(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("client", func(t *testing.T) {
		addr := startH2(t, echo(nil, nil))
		c := dialH2(t, h2Transport(t), addr, "/", starling.DialOptions{WriteTimeout: timeout})
		quietWriter(t, c, timeout)
	})
	t.Run("server", func(t *testing.T) {
		addr := startH2(t, echo(&starling.AcceptOptions{WriteTimeout: timeout}, nil))
		c := dialH2(t, h2Transport(t), addr, "/", starling.DialOptions{})
		quietWriter(t, c, timeout)
	})
}

// quietWriter echoes a message on c, lets both sides be quiet for a few
// write timeouts, and echoes another.
func quietWriter(t *testing.T, c *starling.Conn, timeout time.Duration) {
	t.Helper()
	roundTrip(t, c, "before")
	time.Sleep(4 * timeout)
	roundTrip(t, c, "after")
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestHTTP2ManyStreams runs 100 WebSockets at once on one HTTP/2
// connection, each writing messages of mixed sizes up to 1 MiB while it
// reads their echoes: the stream and connection windows must not stall
// any of them, and every message must come back whole and in order.
func TestHTTP2ManyStreams(t *testing.T) {
	var mu sync.Mutex
	remotes := map[string]bool{}
	echoes := echo(nil, nil)
	addr := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		echoes(w, r)
	}))
	tr := h2Transport(t)
	manyStreams(t, 100, func() *starling.Conn { return dialH2(t, tr, addr, "/", starling.DialOptions{}) })
	if len(remotes) != 1 {
		t.Fatalf("the server saw %d client connections, want one HTTP/2 connection", len(remotes))
	}
}

// manyStreams runs streams WebSockets that dial opens, all at once, each
// writing messages of mixed sizes up to 1 MiB while it reads their echoes,
// and checks that every message comes back whole and in order.
func manyStreams(t *testing.T, streams int, dial func() *starling.Conn) {
	t.Helper()
	sizes := []int{0, 1, 125, 126, 4096, 65535, 65536, 20_000}
	var wg sync.WaitGroup
	errs := make(chan error, 2*streams)
	for i := range streams {
		c := dial()
		msgs := make([][]byte, len(sizes))
		for j, n := range sizes {
			if j == len(sizes)-1 && i%10 == 0 {
				n = 1 << 20 // one in ten also sends a message of 1 MiB
			}
			msgs[j] = make([]byte, n)
			for k := range msgs[j] {
				msgs[j][k] = byte(rand.N(256))
			}
		}
		rand.Shuffle(len(msgs), func(a, b int) { msgs[a], msgs[b] = msgs[b], msgs[a] })
		wg.Go(func() {
			for _, m := range msgs {
				if err := c.Write(ctx(t), starling.MessageBinary, m); err != nil {
					errs <- fmt.Errorf("stream %d: Write: %w", i, err)
					return
				}
			}
		})
		wg.Go(func() {
			for j, m := range msgs {
				_, p, err := c.Read(ctx(t))
				if err != nil || !bytes.Equal(p, m) {
					errs <- fmt.Errorf("stream %d: message %d of %d bytes came back as %d bytes, %v", i, j, len(m), len(p), err)
					return
				}
			}
			errs <- c.Close(starling.StatusNormalClosure, "")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestHTTP2StuckStream checks that a WebSocket over HTTP/2 whose peer stops
// reading fails its writes after the write timeout, with an error that
// says so, while another WebSocket on the same connection goes on.
func TestHTTP2StuckStream(t *testing.T) {
	tr := h2Transport(t)
	stuckStream(t, startH2, func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn {
		return dialH2(t, tr, addr, path, opts)
	})
}

// stuckStream runs TestHTTP2StuckStream with servers that serve starts
// and WebSockets that dial opens, all on one connection.
func stuckStream(t *testing.T, serve func(*testing.T, http.Handler) string, dial func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn) {
	const timeout = 500 * time.Millisecond
	flooded := make(chan error, 1)
	echoes := echo(nil, nil)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/deaf": // reads nothing
			if c, err := starling.Accept(w, r, nil); err == nil {
				defer c.CloseNow()
				<-r.Context().Done()
			}
		case "/flood": // writes to a client that reads nothing
			c, err := starling.Accept(w, r, &starling.AcceptOptions{WriteTimeout: timeout})
			if err != nil {
				return
			}
			defer c.CloseNow()
			flooded <- flood(r.Context(), c)
		default:
			echoes(w, r)
		}
	}))
	other := dial(t, addr, "/", starling.DialOptions{})
	roundTrip(t, other, "first")

	t.Run("server writes", func(t *testing.T) {
		dial(t, addr, "/flood", starling.DialOptions{})
		if err := <-flooded; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the server's write to a client that reads nothing: %v, want a timeout", err)
		}
		roundTrip(t, other, "after the server's timeout")
	})
	t.Run("client writes", func(t *testing.T) {
		c := dial(t, addr, "/deaf", starling.DialOptions{WriteTimeout: timeout})
		if err := flood(ctx(t), c); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the client's write to a server that reads nothing: %v, want a timeout", err)
		}
		roundTrip(t, other, "after the client's timeout")
	})
}

// flood writes messages of 1 MiB on c until a write fails, and returns
// its error, or an error of its own after 64 MiB.
func flood(ctx context.Context, c *starling.Conn) error {
	p := make([]byte, 1<<20)
	for range 64 {
		if err := c.Write(ctx, starling.MessageBinary, p); err != nil {
			return err
		}
	}
	return errors.New("64 MiB written to a peer that reads nothing")
}

// TestHTTP2Endings ends WebSockets over HTTP/2 in the ways other than the
// close handshake, and checks that the other side hears of it at once
// with an error, not a hang, and that the connection they shared still
// carries the rest.
func TestHTTP2Endings(t *testing.T) {
	ended := make(chan error, 1)
	echoes := echo(nil, ended)
	addr := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/return", "/reset": // the handler ends with the WebSocket open
			c, err := starling.Accept(w, r, nil)
			if err != nil {
				return
			}
			_ = c.Write(r.Context(), starling.MessageText, []byte("bye"))
			if r.URL.Path == "/reset" {
				panic(http.ErrAbortHandler) // net/http resets the stream
			}
			return
		}
		echoes(w, r)
	}))
	tr := h2Transport(t)
	other := dialH2(t, tr, addr, "/", starling.DialOptions{})
	roundTrip(t, other, "first")

	for _, path := range []string{"/return", "/reset"} {
		t.Run("handler ends "+path, func(t *testing.T) {
			c := dialH2(t, tr, addr, path, starling.DialOptions{})
			if _, p, err := c.Read(ctx(t)); err != nil || string(p) != "bye" {
				t.Fatalf("Read: %q, %v; want bye", p, err)
			}
			if _, _, err := c.Read(ctx(t)); starling.CloseStatus(err) != starling.StatusAbnormalClosure {
				t.Fatalf("Read after the handler ended: %v, want 1006", err)
			}
		})
	}
	t.Run("client CloseNow", func(t *testing.T) {
		c := dialH2(t, tr, addr, "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		c.CloseNow()
		serverEnded(t, ended)
	})
	t.Run("client Read's context ends", func(t *testing.T) {
		c := dialH2(t, tr, addr, "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		rctx, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
		defer cancel()
		if _, _, err := c.Read(rctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read: %v, want the context's error", err)
		}
		select {
		case <-ended:
		case <-time.After(testTimeout):
			t.Fatal("the server's Read has not ended")
		}
	})
	roundTrip(t, other, "last")
	if err := other.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestHTTP2CloseNowWhileWriting closes a server's WebSocket over HTTP/2
// with CloseNow while another goroutine writes to it, and returns from the
// handler at once, as a handler with a deferred CloseNow does: net/http's
// ResponseWriter is not to be used once the handler has returned, so
// CloseNow must leave no write of its in progress.
func TestHTTP2CloseNowWhileWriting(t *testing.T) {
	tr := h2Transport(t)
	closeNowWhileWriting(t, startH2, func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn {
		return dialH2(t, tr, addr, path, opts)
	})
}

// closeNowWhileWriting runs TestHTTP2CloseNowWhileWriting with a server
// that serve starts and WebSockets that dial opens.
func closeNowWhileWriting(t *testing.T, serve func(*testing.T, http.Handler) string, dial func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		go func() {
			p := make([]byte, 1<<20)
			for c.Write(context.Background(), starling.MessageBinary, p) == nil {
			}
		}()
		_, _, _ = c.Read(r.Context()) // the client's word to close
		c.CloseNow()
	}))
	for range 10 {
		c := dial(t, addr, "/", starling.DialOptions{})
		if _, _, err := c.Read(ctx(t)); err != nil {
			t.Fatalf("Read: %v", err)
		}
		if err := c.Write(ctx(t), starling.MessageText, []byte("close now")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		for {
			if _, _, err := c.Read(ctx(t)); err != nil {
				if starling.CloseStatus(err) != starling.StatusAbnormalClosure {
					t.Fatalf("Read: %v, want 1006 once the server dropped the connection", err)
				}
				break
			}
		}
	}
}

// TestHTTP2WriteContextEnds checks that a Write over HTTP/2 to a peer that
// reads nothing returns once its context ends, with the context's error,
// even without a write timeout to end it, on the server and the client.
func TestHTTP2WriteContextEnds(t *testing.T) {
	tr := h2Transport(t)
	writeContextEnds(t, startH2, func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn {
		return dialH2(t, tr, addr, path, opts)
	})
}

// writeContextEnds runs TestHTTP2WriteContextEnds with a server that serve
// starts and a WebSocket that dial opens.
func writeContextEnds(t *testing.T, serve func(*testing.T, http.Handler) string, dial func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn) {
	wrote := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{WriteTimeout: -1})
		if err != nil {
			return
		}
		defer c.CloseNow()
		if r.URL.Path == "/deaf" {
			<-r.Context().Done()
			return
		}
		wctx, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
		defer cancel()
		wrote <- flood(wctx, c)
	}))
	dial(t, addr, "/", starling.DialOptions{})
	wroteWithin(t, "the server's Write", wrote)

	c := dial(t, addr, "/deaf", starling.DialOptions{WriteTimeout: -1})
	go func() {
		wctx, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
		defer cancel()
		wrote <- flood(wctx, c)
	}()
	wroteWithin(t, "the client's Write", wrote)
}

// wroteWithin checks that the flood that reports on wrote ends with the
// error of its context, which ends first.
func wroteWithin(t *testing.T, who string, wrote <-chan error) {
	t.Helper()
	select {
	case err := <-wrote:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v, want the context's error", who, err)
		}
	case <-time.After(testTimeout / 2):
		t.Fatalf("%s has not returned after its context ended", who)
	}
}

// TestHTTP2ServerShutdown shuts an HTTP/2 server down with WebSockets
// open on one connection: Group.ShutdownWith closes each with 1001, the
// handlers return, and http.Server.Shutdown returns without waiting for
// its context to end.
func TestHTTP2ServerShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var group starling.Group
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: &protocols, Handler: echo(&starling.AcceptOptions{Group: &group}, nil)}
	group.ShutdownWith(srv, 5*time.Second)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()

	tr := h2Transport(t)
	var conns []*starling.Conn
	for range 3 {
		c := dialH2(t, tr, ln.Addr().String(), "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		conns = append(conns, c)
	}
	ended := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			_, _, err := c.Read(ctx(t))
			ended <- err
		}()
	}
	sctx, cancel := context.WithTimeout(context.Background(), testTimeout/2)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range conns {
		if err := <-ended; starling.CloseStatus(err) != starling.StatusGoingAway {
			t.Fatalf("the client's Read ended with %v, want 1001", err)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// TestHTTP2ConnectHeaders sends extended CONNECT requests by hand over
// HTTP/2 and checks Accept's answers: no Sec-WebSocket-Key is needed
// (RFC 8441 section 5), another version is answered 426 with the one
// spoken, another protocol 400, and the 426 carries no HTTP/1.1 field
// that HTTP/2 forbids (RFC 9113 section 8.2.2).
func TestHTTP2ConnectHeaders(t *testing.T) {
	addr := startH2(t, echo(nil, nil))
	tr := h2Transport(t)
	tests := []struct {
		name     string
		protocol string
		version  string
		status   int
	}{
		{"no key", "websocket", "13", http.StatusOK},
		{"version 8", "websocket", "8", http.StatusUpgradeRequired},
		{"no version", "websocket", "", http.StatusUpgradeRequired},
		{"webtransport", "webtransport", "13", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req, err := http.NewRequestWithContext(ctx(t), http.MethodConnect, "http://"+addr+"/", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(":protocol", tt.protocol)
			if tt.version != "" {
				req.Header.Set("Sec-WebSocket-Version", tt.version)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("extended CONNECT: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d", resp.Status, tt.status)
			}
			if tt.status == http.StatusUpgradeRequired && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 with Sec-WebSocket-Version %q, want 13", resp.Header.Get("Sec-WebSocket-Version"))
			}
		})
	}
}

// TestHTTP2DialContextEnds dials a server that does not answer the
// extended CONNECT: Dial returns once its context ends, with its error.
func TestHTTP2DialContextEnds(t *testing.T) {
	tr := h2Transport(t)
	dialContextEnds(t, startH2, func(ctx context.Context, addr string) error {
		_, _, err := starling.Dial(ctx, "ws://"+addr+"/", &starling.DialOptions{HTTP2Transport: tr})
		return err
	})
}

// dialContextEnds runs TestHTTP2DialContextEnds with a server that serve
// starts, and dial, which dials addr under ctx.
func dialContextEnds(t *testing.T, serve func(*testing.T, http.Handler) string, dial func(ctx context.Context, addr string) error) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	dctx, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	dialed := make(chan error, 1)
	go func() { dialed <- dial(dctx, addr) }()
	select {
	case err := <-dialed:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial: %v, want the context's error", err)
		}
	case <-time.After(testTimeout / 2):
		t.Fatal("Dial has not returned after its context ended")
	}
}

// TestHTTP2OverTLS dials a wss:// URL over HTTP/2 with TLS, as browsers
// reach servers: the extended CONNECT goes to the https origin.
func TestHTTP2OverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(echo(nil, nil))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	c, resp, err := starling.Dial(ctx(t), "wss://"+srv.Listener.Addr().String()+"/", &starling.DialOptions{HTTP2Transport: tr})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	if resp.ProtoMajor != 2 || resp.TLS == nil {
		t.Fatalf("answered over %s, TLS %v; want HTTP/2 over TLS", resp.Proto, resp.TLS != nil)
	}
	roundTrip(t, c, "over TLS")
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
