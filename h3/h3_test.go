package h3_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/h3"
)

// testTimeout bounds every wait, so that a bug shows as a failure, never
// as a hung test.
const testTimeout = 20 * time.Second

// server is a quic-go HTTP/3 server on loopback UDP with a certificate
// that the clients of dialOptions trust.
type server struct {
	addr  string
	roots *x509.CertPool
}

// startServer serves h over HTTP/3 until the test ends.
func startServer(t *testing.T, h http.Handler) *server {
	t.Helper()
	cert, roots := selfSigned(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http3.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(pc)
	}()
	t.Cleanup(func() {
		srv.Close()
		pc.Close()
		<-done
	})
	return &server{addr: pc.LocalAddr().String(), roots: roots}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// transport returns an HTTP/3 client transport that trusts s, closed when
// the test ends.
func (s *server) transport(t *testing.T) *http3.Transport {
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: s.roots}}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// dial opens a WebSocket to s's path over HTTP/3 through tr.
func (s *server) dial(t *testing.T, tr *http3.Transport, path string, opts starling.DialOptions) (*starling.Conn, *http.Response) {
	t.Helper()
	opts.HTTP2Transport = h3.RoundTripper(tr)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := starling.Dial(ctx, "wss://"+s.addr+path, &opts)
	if err != nil {
		t.Fatalf("Dial over HTTP/3: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// echo accepts with opts and echoes every message until the connection
// ends, then sends how it ended (nil for a clean close) on ended, if set.
func echo(opts *starling.AcceptOptions, ended chan<- error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err == nil {
				err = c.Write(r.Context(), typ, p)
			}
			if err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
		}
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return c
}

// TestEcho sends text and binary messages of every length form over
// HTTP/3, with and without permessage-deflate, and checks that each comes
// back whole, with its type, and that subprotocol and extension were
// negotiated as over HTTP/1.1.
func TestEcho(t *testing.T) {
	opts := &starling.AcceptOptions{
		Subprotocols: []string{"chat.v1"},
		Compression:  starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
	}
	s := startServer(t, echo(opts, nil))
	tr := s.transport(t)
	for _, mode := range []starling.CompressionMode{starling.CompressionDisabled, starling.CompressionContextTakeover} {
		c, resp := s.dial(t, tr, "/echo", starling.DialOptions{
			Subprotocols: []string{"bogus.v9", "chat.v1"},
			Compression:  starling.CompressionOptions{Mode: mode},
		})
		if resp.ProtoMajor != 3 || resp.StatusCode != http.StatusOK {
			t.Fatalf("answer %s %s, want HTTP/3 200", resp.Proto, resp.Status)
		}
		if c.Subprotocol() != "chat.v1" {
			t.Fatalf("subprotocol %q, want chat.v1", c.Subprotocol())
		}
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if compressed := strings.HasPrefix(ext, "permessage-deflate"); compressed != (mode != starling.CompressionDisabled) {
			t.Fatalf("compression %v: extensions %q", mode, ext)
		}
		for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
			// n bytes of text, less a rune cut in two at the end.
			text := bytes.ToValidUTF8(bytes.Repeat([]byte("ab€"), n/5+1)[:n], nil)
			binary := make([]byte, n)
			_, _ = rand.Read(binary)
			for _, m := range []struct {
				typ starling.MessageType
				p   []byte
			}{{starling.MessageText, text}, {starling.MessageBinary, binary}} {
				if err := c.Write(ctx(t), m.typ, m.p); err != nil {
					t.Fatalf("Write %d bytes: %v", len(m.p), err)
				}
				typ, p, err := c.Read(ctx(t))
				if err != nil || typ != m.typ || !bytes.Equal(p, m.p) {
					t.Fatalf("%v of %d bytes came back as %v of %d bytes, %v", m.typ, len(m.p), typ, len(p), err)
				}
			}
		}
		if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// TestStreamsShareOneConnection runs WebSockets at once over one
// transport: each is a stream of the same QUIC connection (the server sees
// one client address), and none mixes its messages with another's.
func TestStreamsShareOneConnection(t *testing.T) {
	var mu sync.Mutex
	remotes := map[string]int{}
	echoes := echo(nil, nil)
	s := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr]++
		mu.Unlock()
		echoes(w, r)
	}))
	tr := s.transport(t)
	const conns, msgs = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		c, _ := s.dial(t, tr, "/echo", starling.DialOptions{})
		wg.Go(func() {
			for j := range msgs {
				want := []byte(strings.Repeat(string(rune('a'+i)), j+1))
				if err := c.Write(ctx(t), starling.MessageBinary, want); err != nil {
					errs <- err
					return
				}
				if _, p, err := c.Read(ctx(t)); err != nil || !bytes.Equal(p, want) {
					errs <- errors.Join(err, errors.New("connection "+string(rune('a'+i))+" got "+string(p)))
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
			t.Fatal(err)
		}
	}
	if len(remotes) != 1 {
		t.Fatalf("the server saw the WebSockets come from %v, want one QUIC connection", remotes)
	}
}

// TestCloseCodes checks the close handshake over HTTP/3 in both
// directions: each side sees exactly the code and reason the other sent.
func TestCloseCodes(t *testing.T) {
	ended := make(chan error, 1)
	s := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/server-closes" {
			c, err := starling.Accept(w, r, nil)
			if err == nil {
				ended <- c.Close(4002, "server bye")
			}
			return
		}
		echo(nil, ended)(w, r)
	}))
	tr := s.transport(t)

	c, _ := s.dial(t, tr, "/echo", starling.DialOptions{})
	if err := c.Close(4001, "client bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var ce *starling.CloseError
	if err := <-ended; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "client bye" {
		t.Fatalf("the server's Read ended with %v, want 4001 client bye", err)
	}

	c, _ = s.dial(t, tr, "/server-closes", starling.DialOptions{})
	if _, _, err := c.Read(ctx(t)); !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "server bye" {
		t.Fatalf("the client's Read ended with %v, want 4002 server bye", err)
	}
	if err := <-ended; err != nil {
		t.Fatalf("the server's Close: %v", err)
	}
}

// TestPingAndReadLimit checks that a ping is answered over HTTP/3, and
// that a message over the server's read limit fails the connection with
// 1009 as over HTTP/1.1.
func TestPingAndReadLimit(t *testing.T) {
	s := startServer(t, echo(&starling.AcceptOptions{ReadLimit: 1024}, nil))
	c, _ := s.dial(t, s.transport(t), "/echo", starling.DialOptions{})
	readErr := make(chan error, 1)
	go func() { // Ping needs a reader, and the 1009 arrives through it
		_, _, err := c.Read(ctx(t))
		readErr <- err
	}()
	if _, err := c.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := c.Write(ctx(t), starling.MessageBinary, make([]byte, 1025)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := <-readErr; starling.CloseStatus(err) != starling.StatusMessageTooBig {
		t.Fatalf("Read ended with %v, want 1009", err)
	}
}

// connect sends an extended CONNECT for protocol to s's path straight
// through quic-go's client, without Starling's, and returns the answer and
// the writer of the request stream.
func (s *server) connect(t *testing.T, method, protocol, path string) (*http.Response, *io.PipeWriter) {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req, err := http.NewRequestWithContext(ctx(t), method, "https://"+s.addr+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodGet {
		req.Body = nil
	}
	req.Proto = protocol
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := s.transport(t).RoundTrip(req)
	if err != nil {
		t.Fatalf("%s over HTTP/3: %v", method, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, pw
}

// TestWireFormat checks the bytes on the stream against RFC 9220 and RFC
// 6455 with frames built by hand: after the 200, a masked text frame from
// the client comes back unmasked, and a close frame is answered with the
// same code, and then the stream ends.
func TestWireFormat(t *testing.T) {
	s := startServer(t, echo(nil, nil))
	resp, w := s.connect(t, http.MethodConnect, "websocket", "/echo")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("extended CONNECT answered %s, want 200 (RFC 9220 section 3)", resp.Status)
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != "" || resp.Header.Get("Upgrade") != "" {
		t.Fatalf("answer has HTTP/1.1 handshake headers: %v", resp.Header)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	send := func(opcode byte, payload string) {
		frame := []byte{0x80 | opcode, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
		for i := range len(payload) {
			frame = append(frame, payload[i]^key[i%4])
		}
		if _, err := w.Write(frame); err != nil {
			t.Fatalf("writing a frame: %v", err)
		}
	}
	expect := func(want string) {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != want {
			t.Fatalf("read % x, %v; want % x", got, err, want)
		}
	}
	send(0x1, "hello")
	expect("\x81\x05hello")
	send(0x8, "\x0f\xa1bye")   // 4001
	expect("\x88\x02\x0f\xa1") // the code echoed (RFC 6455 section 5.5.1)
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("after the close frame, read %d bytes, %v; want the stream's end", n, err)
	}
}

// TestRefusals checks what Accept answers on HTTP/3 to requests that are
// not a WebSocket's extended CONNECT, and what Dial reports for a refusal,
// also one whose body never ends (the body only words the error).
func TestRefusals(t *testing.T) {
	s := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/forbidden":
			http.Error(w, "not for you", http.StatusForbidden)
			return
		case "/endless-refusal": // a body with no length that never ends
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte("not for you"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		echo(nil, nil)(w, r)
	}))
	if resp, _ := s.connect(t, http.MethodGet, "HTTP/1.1", "/echo"); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "CONNECT" {
		t.Fatalf("GET answered %s, Allow %q; want 405, CONNECT", resp.Status, resp.Header.Get("Allow"))
	}
	resp, _ := s.connect(t, http.MethodConnect, "webtransport", "/echo")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"webtransport"`) {
		t.Fatalf("extended CONNECT for webtransport answered %s %q; want 400 naming the protocol", resp.Status, body)
	}
	opts := &starling.DialOptions{HTTP2Transport: h3.RoundTripper(s.transport(t))}
	for _, path := range []string{"/forbidden", "/endless-refusal"} {
		dialed := make(chan error, 1)
		go func() {
			_, resp, err := starling.Dial(ctx(t), "wss://"+s.addr+path, opts)
			if err != nil && resp == nil {
				err = errors.Join(err, errors.New("no response"))
			}
			dialed <- err
		}()
		var err error
		select {
		case err = <-dialed:
		case <-time.After(testTimeout / 2):
			t.Fatalf("Dial to %s has not returned", path)
		}
		var he *starling.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden || !strings.Contains(he.Body, "not for you") {
			t.Fatalf("Dial to %s: %v; want a HandshakeError with the 403 and its reason", path, err)
		}
	}
}

// TestQuietWriterSurvives checks that a WebSocket over HTTP/3 that writes
// nothing for longer than its WriteTimeout stays open, on either side: the
// write timeout bounds a write that waits, not the time between writes.
func TestQuietWriterSurvives(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("client", func(t *testing.T) {
		s := startServer(t, echo(nil, nil))
		c, _ := s.dial(t, s.transport(t), "/", starling.DialOptions{WriteTimeout: timeout})
		quietWriter(t, c, timeout)
	})
	t.Run("server", func(t *testing.T) {
		s := startServer(t, echo(&starling.AcceptOptions{WriteTimeout: timeout}, nil))
		c, _ := s.dial(t, s.transport(t), "/", starling.DialOptions{})
		quietWriter(t, c, timeout)
	})
}

// TestEndings ends WebSockets over HTTP/3 in the ways other than the close
// handshake, and checks that the other side hears of it at once with an
// error, not a hang.
func TestEndings(t *testing.T) {
	ended := make(chan error, 1)
	echoes := echo(nil, ended)
	s := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/return" { // the handler returns with the WebSocket open
			if c, err := starling.Accept(w, r, nil); err == nil {
				_ = c.Write(r.Context(), starling.MessageText, []byte("bye"))
			}
			return
		}
		echoes(w, r)
	}))
	t.Run("handler returns", func(t *testing.T) {
		c, _ := s.dial(t, s.transport(t), "/return", starling.DialOptions{})
		if _, p, err := c.Read(ctx(t)); err != nil || string(p) != "bye" {
			t.Fatalf("Read: %q, %v; want bye", p, err)
		}
		if _, _, err := c.Read(ctx(t)); starling.CloseStatus(err) != starling.StatusAbnormalClosure {
			t.Fatalf("Read after the handler returned: %v, want 1006", err)
		}
	})
	t.Run("client CloseNow", func(t *testing.T) {
		c, _ := s.dial(t, s.transport(t), "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		c.CloseNow()
		serverEnded(t, ended)
	})
	t.Run("client Read's context ends", func(t *testing.T) {
		c, _ := s.dial(t, s.transport(t), "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		rctx, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
		defer cancel()
		if _, _, err := c.Read(rctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read: %v, want the context's error", err)
		}
		serverEnded(t, ended)
	})
	t.Run("client transport closes", func(t *testing.T) {
		tr := s.transport(t)
		c, _ := s.dial(t, tr, "/", starling.DialOptions{})
		roundTrip(t, c, "hello")
		tr.Close()
		if _, _, err := c.Read(ctx(t)); starling.CloseStatus(err) != starling.StatusAbnormalClosure {
			t.Fatalf("Read after the transport closed: %v, want 1006", err)
		}
		serverEnded(t, ended)
	})
}

// TestManyStreams runs 100 WebSockets at once on one QUIC connection, each
// writing messages of mixed sizes up to 1 MiB while it reads their echoes:
// the stream and connection windows must not stall any of them.
func TestManyStreams(t *testing.T) {
	s := startServer(t, echo(nil, nil))
	tr := s.transport(t)
	manyStreams(t, 100, func() *starling.Conn {
		c, _ := s.dial(t, tr, "/", starling.DialOptions{})
		return c
	})
}

// TestStuckStream checks that a WebSocket over HTTP/3 whose peer stops
// reading fails its writes after the write timeout, with an error that
// says so, while another WebSocket on the same connection goes on.
func TestStuckStream(t *testing.T) {
	serve, dial := h3Peers()
	stuckStream(t, serve, dial)
}

// h3Peers returns the serve and dial functions of the tests shared with
// HTTP/2 (http2_test.go): a server over HTTP/3, and WebSockets that share
// one QUIC connection to it.
func h3Peers() (serve func(*testing.T, http.Handler) string, dial func(t *testing.T, addr, path string, opts starling.DialOptions) *starling.Conn) {
	var s *server
	var tr *http3.Transport
	serve = func(t *testing.T, h http.Handler) string {
		s = startServer(t, h)
		tr = s.transport(t)
		return s.addr
	}
	dial = func(t *testing.T, _, path string, opts starling.DialOptions) *starling.Conn {
		c, _ := s.dial(t, tr, path, opts)
		return c
	}
	return serve, dial
}

// TestCloseNowWhileWriting is TestHTTP2CloseNowWhileWriting over HTTP/3.
func TestCloseNowWhileWriting(t *testing.T) {
	serve, dial := h3Peers()
	closeNowWhileWriting(t, serve, dial)
}

// TestWriteContextEnds is TestHTTP2WriteContextEnds over HTTP/3.
func TestWriteContextEnds(t *testing.T) {
	serve, dial := h3Peers()
	writeContextEnds(t, serve, dial)
}

// TestDialContextEnds is TestHTTP2DialContextEnds over HTTP/3.
func TestDialContextEnds(t *testing.T) {
	var s *server
	dialContextEnds(t, func(t *testing.T, h http.Handler) string {
		s = startServer(t, h)
		return s.addr
	}, func(ctx context.Context, addr string) error {
		_, _, err := starling.Dial(ctx, "wss://"+addr+"/", &starling.DialOptions{HTTP2Transport: h3.RoundTripper(s.transport(t))})
		return err
	})
}

// serverEnded waits for the server's Read to end, with an error, as the
// echo handler reports it on ended.
func serverEnded(t *testing.T, ended <-chan error) {
	t.Helper()
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("the server's Read ended without an error")
		}
	case <-time.After(testTimeout):
		t.Fatal("the server's Read has not ended")
	}
}
