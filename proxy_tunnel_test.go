package starling_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/testpki"
)

// tunnelProxy is an HTTP CONNECT (over TCP or TLS) or SOCKS5 proxy that
// records what it relays.
type tunnelProxy struct {
	socks      bool
	user, pass string            // required credentials, if user is set
	resolve    map[string]string // host:port to dial instead of the one asked
	mu         sync.Mutex
	asked      []string     // the host:port of each tunnel asked for
	up, down   bytes.Buffer // client to target, target to client
}

// startTunnelProxy serves p on loopback, over TLS if cfg is set, and
// returns its URL with the given scheme.
func startTunnelProxy(t *testing.T, p *tunnelProxy, scheme string, cfg *tls.Config) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	serveEach(t, ln, p.serve)
	return &url.URL{Scheme: scheme, Host: ln.Addr().String()}
}

// serveEach runs handle for each connection ln accepts until the test
// ends, then closes ln and waits for the handlers.
func serveEach(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				handle(c)
			})
		}
	})
}

func (p *tunnelProxy) serve(c net.Conn) {
	br := bufio.NewReader(c)
	var addr string
	var ok bool
	if p.socks {
		addr, ok = p.socksHandshake(c, br)
	} else {
		addr, ok = p.connectHandshake(c, br)
	}
	if !ok {
		return
	}
	p.mu.Lock()
	p.asked = append(p.asked, addr)
	p.mu.Unlock()
	if a, found := p.resolve[addr]; found {
		addr = a
	}
	target, err := net.Dial("tcp", addr)
	if err != nil {
		p.answer(c, false)
		return
	}
	defer target.Close()
	if !p.answer(c, true) {
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(&recorder{w: target, mu: &p.mu, b: &p.up}, br)
		target.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(&recorder{w: c, mu: &p.mu, b: &p.down}, target)
	c.Close()
	<-done
}

// connectHandshake reads a CONNECT request and checks its credentials.
func (p *tunnelProxy) connectHandshake(c net.Conn, br *bufio.Reader) (string, bool) {
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return "", false
	}
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
		if req.Header.Get("Proxy-Authorization") != want {
			// A body the client has no reason to read, and the
			// connection kept open, as a keep-alive proxy leaves it.
			io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"tunnel\"\r\nContent-Length: 5\r\n\r\nlogin")
			io.Copy(io.Discard, br)
			return "", false
		}
	}
	return req.Host, true
}

// socksHandshake runs RFC 1928 method selection, RFC 1929 when
// credentials are required, and reads the CONNECT request.
func (p *tunnelProxy) socksHandshake(c net.Conn, br *bufio.Reader) (string, bool) {
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 5 {
		return "", false
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return "", false
	}
	method := byte(0)
	if p.user != "" {
		method = 2
	}
	if bytes.IndexByte(methods, method) < 0 {
		c.Write([]byte{5, 0xff})
		return "", false
	}
	c.Write([]byte{5, method})
	if method == 2 && !p.socksLogin(c, br) {
		return "", false
	}
	return readSOCKSConnect(br)
}

// socksLogin runs the RFC 1929 exchange.
func (p *tunnelProxy) socksLogin(c net.Conn, br *bufio.Reader) bool {
	field := func() string {
		n, _ := br.ReadByte()
		b := make([]byte, n)
		io.ReadFull(br, b)
		return string(b)
	}
	if v, err := br.ReadByte(); err != nil || v != 1 {
		return false
	}
	user := field()
	pass := field()
	if user != p.user || pass != p.pass {
		c.Write([]byte{1, 1})
		return false
	}
	c.Write([]byte{1, 0})
	return true
}

// readSOCKSConnect reads a CONNECT request and returns its destination.
func readSOCKSConnect(br *bufio.Reader) (string, bool) {
	h := make([]byte, 4)
	if _, err := io.ReadFull(br, h); err != nil || h[1] != 1 {
		return "", false
	}
	var host []byte
	switch h[3] {
	case 1:
		host = make([]byte, 4)
	case 4:
		host = make([]byte, 16)
	case 3:
		n, _ := br.ReadByte()
		host = make([]byte, n)
	default:
		return "", false
	}
	port := make([]byte, 2)
	if _, err := io.ReadFull(br, host); err != nil {
		return "", false
	}
	if _, err := io.ReadFull(br, port); err != nil {
		return "", false
	}
	name := string(host)
	if h[3] != 3 {
		name = net.IP(host).String()
	}
	return net.JoinHostPort(name, strconv.Itoa(int(binary.BigEndian.Uint16(port)))), true
}

// answer tells the client whether the tunnel is open.
func (p *tunnelProxy) answer(c net.Conn, ok bool) bool {
	var err error
	switch {
	case p.socks && ok:
		_, err = c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
	case p.socks:
		_, err = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
	case ok:
		_, err = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	default:
		_, err = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
	}
	return ok && err == nil
}

func (p *tunnelProxy) relayed() (asked []string, up, down []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...), bytes.Clone(p.up.Bytes()), bytes.Clone(p.down.Bytes())
}

// recorder writes to w and appends what it wrote to b under mu.
type recorder struct {
	w  io.Writer
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	r.mu.Lock()
	r.b.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// proxyFleet is one proxy of each kind, with the same credentials.
type proxyFleet struct {
	roots   *x509.CertPool // trusts the https proxy's certificate
	proxies map[string]*tunnelProxy
	urls    map[string]*url.URL // credentials included
}

var proxySchemes = []string{"http", "https", "socks5", "socks5h"}

func startProxyFleet(t *testing.T, user, pass string) *proxyFleet {
	k := testpki.New(t)
	f := &proxyFleet{roots: k.Roots(), proxies: map[string]*tunnelProxy{}, urls: map[string]*url.URL{}}
	for _, scheme := range proxySchemes {
		p := &tunnelProxy{socks: strings.HasPrefix(scheme, "socks"), user: user, pass: pass}
		var cfg *tls.Config
		if scheme == "https" {
			cfg = &tls.Config{Certificates: []tls.Certificate{testpki.Chain(k.Leaf, k.Inter)}}
		}
		u := startTunnelProxy(t, p, scheme, cfg)
		if user != "" {
			u.User = url.UserPassword(user, pass)
		}
		f.proxies[scheme], f.urls[scheme] = p, u
	}
	return f
}

// TestPinsThroughProxies dials a wss server with pins through each kind of
// proxy: TLS to the server must run end to end inside the tunnel, so that
// the proxy relays only ciphertext, and the pins must be checked against
// the server's certificates, not the proxy's.
func TestPinsThroughProxies(t *testing.T) {
	checkGoroutines(t)
	k := testpki.New(t)
	addr := startWSS(t, testpki.Chain(k.Leaf, k.Inter))
	fleet := startProxyFleet(t, "", "")
	for _, scheme := range proxySchemes {
		for _, tt := range []struct {
			name    string
			pin     *testpki.Cert
			pinOnly bool
			match   bool
		}{
			{"leaf", k.Leaf, false, true},
			{"intermediate", k.Inter, false, true},
			{"root", k.Root, false, true},
			{"leaf, pin only", k.Leaf, true, true},
			{"intermediate, pin only", k.Inter, true, true},
			{"other key", testpki.Issue(t, testpki.CA("Other"), nil), false, false},
			{"other key, pin only", testpki.Issue(t, testpki.CA("Other"), nil), true, false},
		} {
			t.Run(scheme+"/"+tt.name, func(t *testing.T) {
				opts := &starling.DialOptions{
					Proxy:          starling.ProxyURL(fleet.urls[scheme]),
					ProxyTLSConfig: &tls.Config{RootCAs: fleet.roots},
					Pins:           []string{starling.PinOf(tt.pin.Cert)},
					PinOnly:        tt.pinOnly,
				}
				if !tt.pinOnly {
					opts.TLSConfig = &tls.Config{RootCAs: k.Roots()}
				}
				p := fleet.proxies[scheme]
				before, _, _ := p.relayed()
				err := pinThrough(t, addr, opts)
				asked, up, down := p.relayed()
				if len(asked) != len(before)+1 || asked[len(asked)-1] != addr {
					t.Fatalf("the proxy was asked for %q; want one more tunnel, to %s", asked, addr)
				}
				if !tt.match {
					checkPinMismatch(t, err, k.Leaf, k.Inter)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checkCiphertext(t, up, "GET /", "Sec-WebSocket-Key", "pinned secret")
				checkCiphertext(t, down, "101 Switching Protocols", "pinned secret")
			})
		}
	}
}

// checkCiphertext fails the test if relayed holds any of plain.
func checkCiphertext(t *testing.T, relayed []byte, plain ...string) {
	t.Helper()
	if len(relayed) == 0 {
		t.Error("the proxy relayed nothing")
	}
	for _, s := range plain {
		if bytes.Contains(relayed, []byte(s)) {
			t.Errorf("the proxy relayed %q in plaintext", s)
		}
	}
}

// pinThrough dials wss://addr with opts and, on success, checks an echo of
// a message the proxy must not see.
func pinThrough(t *testing.T, addr string, opts *starling.DialOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, "wss://"+addr+"/", opts)
	if err != nil {
		return err
	}
	if err := c.Write(ctx, starling.MessageText, []byte("pinned secret")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "pinned secret" {
		t.Fatalf("echo = %q, %v", p, err)
	}
	c.Close(starling.StatusNormalClosure, "")
	return nil
}

// dialVia dials rawURL with opts and, on success, checks an echo.
func dialVia(t *testing.T, rawURL string, opts starling.DialOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, rawURL, &opts)
	if err != nil {
		return err
	}
	echoOnce(t, c)
	return nil
}

// newEchoServerAddr starts a ws echo server and returns its host:port.
func newEchoServerAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(echoHandler(nil))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestProxyCredentialsSpecialCharacters sends credentials with ':', '@',
// '%' and other reserved characters to each kind of proxy, from a URL
// built with url.UserPassword and from an environment value written by
// hand.
func TestProxyCredentialsSpecialCharacters(t *testing.T) {
	const user, pass = "al@ice%20", "p:a@ss%/ w#?é"
	fleet := startProxyFleet(t, user, pass)
	target := newEchoServerAddr(t)
	for _, scheme := range proxySchemes {
		t.Run(scheme, func(t *testing.T) {
			err := dialVia(t, "ws://"+target+"/", starling.DialOptions{
				Proxy:          starling.ProxyURL(fleet.urls[scheme]),
				ProxyTLSConfig: &tls.Config{RootCAs: fleet.roots},
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// By hand, as in a shell: reserved characters percent-encoded.
	t.Setenv("NO_PROXY", "")
	t.Setenv("WS_PROXY", "socks5h://al%40ice%2520:p%3Aa%40ss%25%2F%20w%23%3F%C3%A9@"+fleet.urls["socks5h"].Host)
	named := "creds.test:" + portOf(t, target)
	fleet.proxies["socks5h"].resolve = map[string]string{named: target}
	if err := dialVia(t, "ws://"+named+"/", starling.DialOptions{}); err != nil {
		t.Fatalf("through WS_PROXY: %v", err)
	}
}

// TestProxyAuthRefusedThenRetried dials through proxies that require
// credentials, without them and with a wrong password, then with the right
// ones: a refusal is an ErrProxyAuth naming the proxy's answer, never
// showing the password, and does not stop a later dial from succeeding.
func TestProxyAuthRefusedThenRetried(t *testing.T) {
	checkGoroutines(t)
	fleet := startProxyFleet(t, "alice", "right")
	target := newEchoServerAddr(t)
	for _, scheme := range proxySchemes {
		t.Run(scheme, func(t *testing.T) {
			for _, who := range []*url.Userinfo{nil, url.UserPassword("alice", "wrong-password")} {
				pu := *fleet.urls[scheme]
				pu.User = who
				err := dialVia(t, "ws://"+target+"/", starling.DialOptions{
					Proxy:          starling.ProxyURL(&pu),
					ProxyTLSConfig: &tls.Config{RootCAs: fleet.roots},
				})
				if !errors.Is(err, starling.ErrProxyAuth) || strings.Contains(err.Error(), "wrong-password") {
					t.Fatalf("as %v: err = %v, want ErrProxyAuth without the password", who, err)
				}
				var pe *starling.ProxyError
				if scheme == "http" || scheme == "https" {
					if !errors.As(err, &pe) || pe.StatusCode != http.StatusProxyAuthRequired ||
						pe.Header.Get("Proxy-Authenticate") != `Basic realm="tunnel"` ||
						!strings.Contains(err.Error(), "407 Proxy Authentication Required") {
						t.Fatalf("as %v: err = %v, want a *ProxyError with the 407 and its Proxy-Authenticate", who, err)
					}
				}
			}
			err := dialVia(t, "ws://"+target+"/", starling.DialOptions{
				Proxy:          starling.ProxyURL(fleet.urls[scheme]),
				ProxyTLSConfig: &tls.Config{RootCAs: fleet.roots},
			})
			if err != nil {
				t.Fatalf("with the right credentials: %v", err)
			}
		})
	}
}

// TestSOCKS5TargetForms asks a SOCKS5 proxy for an IPv6 address and for
// host names of 255 bytes, the most RFC 1928 section 5 can carry, and 256.
func TestSOCKS5TargetForms(t *testing.T) {
	fleet := startProxyFleet(t, "", "")
	target := newEchoServerAddr(t)
	port := portOf(t, target)
	label := strings.Repeat("a", 63)
	long := label + "." + label + "." + label + "." + label // 255 bytes
	p := fleet.proxies["socks5"]
	v6 := net.JoinHostPort("::1", port)
	p.resolve = map[string]string{v6: target, net.JoinHostPort(long, port): target}
	for _, host := range []string{"[::1]", long} {
		if err := dialVia(t, "ws://"+host+":"+port+"/", starling.DialOptions{Proxy: starling.ProxyURL(fleet.urls["socks5"])}); err != nil {
			t.Fatalf("%.20s: %v", host, err)
		}
	}
	asked, _, _ := p.relayed()
	if len(asked) != 2 || asked[0] != v6 || asked[1] != net.JoinHostPort(long, port) {
		t.Fatalf("the proxy was asked for %.80q", asked)
	}
	err := dialVia(t, "ws://"+long+"b:"+port+"/", starling.DialOptions{Proxy: starling.ProxyURL(fleet.urls["socks5"])})
	if err == nil || !strings.Contains(err.Error(), "longer than 255 bytes") {
		t.Fatalf("256-byte name: err = %v", err)
	}
}

// cutProxy answers each connection's first bytes with reply and ends its
// side.
func cutProxy(t *testing.T, reply string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEach(t, ln, func(c net.Conn) {
		buf := make([]byte, 1024)
		if _, err := c.Read(buf); err != nil {
			return
		}
		io.WriteString(c, reply)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
	return ln.Addr().String()
}

// TestProxyCutShort dials through proxies that close the connection in
// the middle of their answer: the dial fails at once with
// io.ErrUnexpectedEOF, not a bare io.EOF, which reads as a clean end.
func TestProxyCutShort(t *testing.T) {
	checkGoroutines(t)
	for _, tt := range []struct{ scheme, reply string }{
		{"http", ""},
		{"http", "HTTP/1.1 200 Conn"},
		{"http", "HTTP/1.1 200 Connection established\r\nVia: 1.1"},
		{"socks5", ""},
		{"socks5", "\x05"},
		{"socks5", "\x05\x00"},
		{"socks5", "\x05\x00\x05\x00\x00\x01\x7f"},
	} {
		addr := cutProxy(t, tt.reply)
		err := dialVia(t, "ws://cut.test/", starling.DialOptions{Proxy: starling.ProxyURL(&url.URL{Scheme: tt.scheme, Host: addr})})
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s proxy answering %q: err = %v, want io.ErrUnexpectedEOF naming the proxy", tt.scheme, tt.reply, err)
		}
	}
}
