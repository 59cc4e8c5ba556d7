package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// via returns a Dialer that uses proxy for every target.
func via(t *testing.T, proxy string) *Dialer {
	pu := mustURL(t, proxy)
	return &Dialer{Proxy: func(*url.URL) (*url.URL, error) { return pu, nil }}
}

// testCtx bounds a test's dial; it is a safety net, not a speed check.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// roundTrip reads want from c (the target's greeting), then checks that c
// echoes a message.
func roundTrip(t *testing.T, c net.Conn, greeting string) {
	t.Helper()
	defer c.Close()
	buf := make([]byte, len(greeting))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != greeting {
		t.Fatalf("greeting = %q, %v; want %q", buf, err, greeting)
	}
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	buf = make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
}

func TestDirect(t *testing.T) {
	target := echoServer(t, nil, "hi")
	for name, d := range map[string]*Dialer{
		"nil Proxy":       {},
		"Proxy says none": {Proxy: func(*url.URL) (*url.URL, error) { return nil, nil }},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, c, "hi")
		})
	}
}

func TestHTTPConnect(t *testing.T) {
	checkLeaks(t)
	target := echoServer(t, nil, "hi")
	p := &connectProxy{}
	d := via(t, "http://"+startConnectProxy(t, p, nil))
	c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target+"/chat"))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")
	req := <-p.seen
	if req.Method != "CONNECT" || req.RequestURI != target || req.Host != target {
		t.Fatalf("proxy got %s %s with Host %s, want CONNECT %s", req.Method, req.RequestURI, req.Host, target)
	}
	if h := req.Header.Get("Proxy-Authorization"); h != "" {
		t.Fatalf("Proxy-Authorization %q sent without credentials", h)
	}
}

func TestHTTPConnectAuth(t *testing.T) {
	target := echoServer(t, nil, "hi")
	p := &connectProxy{user: "alice", pass: "s3cret:x"}
	addr := startConnectProxy(t, p, nil)

	c, err := via(t, "http://alice:s3cret%3Ax@"+addr).DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")
	if got := (<-p.seen).Header.Get("Proxy-Authorization"); got != basic("alice", "s3cret:x") {
		t.Fatalf("Proxy-Authorization = %q", got)
	}

	for _, proxy := range []string{"http://alice:wrong@" + addr, "http://" + addr} {
		_, err := via(t, proxy).DialContext(testCtx(t), mustURL(t, "ws://"+target))
		var pe *Error
		if !errors.As(err, &pe) || pe.StatusCode != 407 || !errors.Is(err, ErrAuth) {
			t.Fatalf("through %s: error = %v, want a 407 *Error matching ErrAuth", proxy, err)
		}
		if pe.Header.Get("Proxy-Authenticate") != `Basic realm="test"` {
			t.Fatalf("Proxy-Authenticate = %q", pe.Header.Get("Proxy-Authenticate"))
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Fatalf("error %q shows the password", err)
		}
	}
}

func TestHTTPConnectRefusals(t *testing.T) {
	target := echoServer(t, nil, "")
	for _, status := range []string{"403 Forbidden", "407 Proxy Authentication Required", "502 Bad Gateway", "302 Found", "300 Multiple Choices"} {
		t.Run(status, func(t *testing.T) {
			addr := startConnectProxy(t, &connectProxy{refuse: status}, nil)
			_, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "wss://"+target))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if pe.Status != status || pe.Target != target || pe.Proxy != "http://"+addr {
				t.Fatalf("got %+v", pe)
			}
			if !strings.Contains(err.Error(), "refused CONNECT "+target+": "+status) {
				t.Fatalf("message %q lacks the status line", err)
			}
			if got, want := errors.Is(err, ErrAuth), strings.HasPrefix(status, "407"); got != want {
				t.Fatalf("errors.Is(err, ErrAuth) = %v", got)
			}
		})
	}
}

// TestHTTPConnectAnySuccess checks that any 2xx answer opens the tunnel
// (RFC 9110 section 9.3.6), not only 200.
func TestHTTPConnectAnySuccess(t *testing.T) {
	for _, status := range []string{"200 OK", "204 No Content", "299 Odd"} {
		t.Run(status, func(t *testing.T) {
			addr := scriptedProxy(t, "HTTP/1.1 "+status+"\r\n\r\nhello")
			c, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got, err := io.ReadAll(c); string(got) != "hello" || err != nil {
				t.Fatalf("tunnel read %q, %v; want %q", got, err, "hello")
			}
		})
	}
}

func TestHTTPConnectUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	addr := startConnectProxy(t, &connectProxy{}, nil)
	_, err = via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://"+closed))
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 502 {
		t.Fatalf("error = %v, want 502 *Error", err)
	}
}

func TestConnectKeepsEarlyBytes(t *testing.T) {
	target := echoServer(t, nil, "welcome, early bytes")
	addr := startConnectProxy(t, &connectProxy{early: true}, nil)
	c, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*bufferedConn); !ok {
		t.Fatalf("conn is %T; the proxy's early bytes were not buffered", c)
	}
	roundTrip(t, c, "welcome, early bytes")
}

func TestConnectHeader(t *testing.T) {
	target := echoServer(t, nil, "")
	p := &connectProxy{}
	d := via(t, "http://user:pass@"+startConnectProxy(t, p, nil))
	d.ConnectHeader = map[string][]string{"user-agent": {"starling-test"}, "Proxy-Authorization": {"Bearer t0k"}, "host": {"evil.example"}}
	c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	req := <-p.seen
	if req.UserAgent() != "starling-test" || req.Header.Get("Proxy-Authorization") != "Bearer t0k" || req.Host != target {
		t.Fatalf("proxy got header %v", req.Header)
	}

	for _, h := range []map[string][]string{
		{"X-Evil": {"a\r\nInjected: 1"}},
		{"Bad Name": {"v"}},
		{"": {"v"}},
	} {
		d.ConnectHeader = h
		if _, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target)); err == nil || !strings.Contains(err.Error(), "CONNECT header") {
			t.Fatalf("header %q: error = %v", h, err)
		}
	}
}

func TestHTTPSProxy(t *testing.T) {
	ca := newTestCA(t)
	target := echoServer(t, nil, "hi")
	p := &connectProxy{user: "u", pass: "p"}
	// A proxy that speaks HTTP/2 too must be asked for HTTP/1.1, the
	// protocol CONNECT is sent in, whatever ProxyTLSConfig offers.
	scfg := ca.serverConfig()
	scfg.NextProtos = []string{"h2", "http/1.1"}
	addr := startConnectProxy(t, p, scfg)

	d := via(t, "https://u:p@"+addr)
	d.ProxyTLSConfig = &tls.Config{RootCAs: ca.pool, NextProtos: []string{"h2"}}
	c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*tls.Conn); !ok || tc.ConnectionState().NegotiatedProtocol != "http/1.1" {
		t.Fatalf("conn %T is not TLS to the proxy speaking HTTP/1.1", c)
	}
	roundTrip(t, c, "hi")
	if d.ProxyTLSConfig.ServerName != "" || d.ProxyTLSConfig.NextProtos[0] != "h2" {
		t.Fatal("DialContext modified ProxyTLSConfig")
	}

	// A ServerName in ProxyTLSConfig is the name the proxy's certificate
	// is checked against, not the host of the proxy URL.
	d = via(t, "https://u:p@proxy.invalid")
	d.Forward = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
	d.ProxyTLSConfig = &tls.Config{RootCAs: ca.pool, ServerName: "localhost"}
	c, err = d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")

	// Without the test CA, the proxy's certificate is not trusted.
	d = via(t, "https://u:p@"+addr)
	d.ProxyTLSConfig = nil
	_, err = d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Fatalf("error = %v, want x509.UnknownAuthorityError", err)
	}
}

// TestEndToEndTLS checks that wss through a CONNECT proxy keeps TLS to the
// target: the caller's TLS runs over the tunnel and the proxy relays only
// ciphertext.
func TestEndToEndTLS(t *testing.T) {
	checkLeaks(t)
	ca := newTestCA(t)
	target := echoServer(t, ca.serverConfig(), "")
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			var cfg *tls.Config
			if scheme == "https" {
				cfg = ca.serverConfig()
			}
			p := &connectProxy{}
			d := via(t, scheme+"://"+startConnectProxy(t, p, cfg))
			d.ProxyTLSConfig = &tls.Config{RootCAs: ca.pool}
			raw, err := d.DialContext(testCtx(t), mustURL(t, "wss://"+target))
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, &tls.Config{RootCAs: ca.pool, ServerName: "localhost"})
			if err := c.HandshakeContext(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(c, "top secret"); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "top secret" {
				t.Fatalf("echo = %q, %v", buf, err)
			}
			c.Close()
			if relayed := p.relayed.String(); relayed == "" || strings.Contains(relayed, "top secret") {
				t.Fatalf("the proxy relayed %d bytes, plaintext included: %v", len(relayed), strings.Contains(relayed, "top secret"))
			}
		})
	}
}

func TestSOCKS5(t *testing.T) {
	checkLeaks(t)
	target := echoServer(t, nil, "hi")
	_, port, _ := net.SplitHostPort(target)
	tests := []struct {
		proxyScheme string
		targetHost  string
		wantAtyp    byte
	}{
		{"socks5", "localhost", socksDomain},
		{"socks5h", "localhost", socksDomain},
		{"socks5", "127.0.0.1", socksIPv4},
	}
	for _, tt := range tests {
		t.Run(tt.proxyScheme+" "+tt.targetHost, func(t *testing.T) {
			p := &socksProxy{}
			d := via(t, tt.proxyScheme+"://"+startSOCKSProxy(t, p))
			c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+net.JoinHostPort(tt.targetHost, port)))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, c, "hi")
			seen := <-p.seen
			if seen.atyp != tt.wantAtyp || seen.host != tt.targetHost || fmt.Sprint(seen.port) != port {
				t.Fatalf("proxy got %+v", seen)
			}
		})
	}
}

func TestSOCKS5Auth(t *testing.T) {
	target := echoServer(t, nil, "hi")
	addr := startSOCKSProxy(t, &socksProxy{user: "bob", pass: "hunter2"})

	c, err := via(t, "socks5://bob:hunter2@"+addr).DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")

	for proxy, want := range map[string]string{
		"socks5://bob:wrong@" + addr: "rejected the username and password",
		"socks5://" + addr:           "accepts none of the offered authentication methods",
	} {
		_, err := via(t, proxy).DialContext(testCtx(t), mustURL(t, "ws://"+target))
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), want) {
			t.Fatalf("through %s: error = %v, want ErrAuth saying %q", proxy, err, want)
		}
	}
}

func TestSOCKS5Refusals(t *testing.T) {
	target := echoServer(t, nil, "")
	for rep, text := range map[byte]string{2: "connection not allowed by ruleset", 5: "connection refused", 8: "address type not supported", 42: "unassigned"} {
		t.Run(text, func(t *testing.T) {
			addr := startSOCKSProxy(t, &socksProxy{reply: rep})
			_, err := via(t, "socks5://"+addr).DialContext(testCtx(t), mustURL(t, "wss://"+target))
			var se *SOCKSError
			if !errors.As(err, &se) || se.Reply != rep || se.Target != target {
				t.Fatalf("error = %v, want *SOCKSError with reply %d", err, rep)
			}
			if !strings.Contains(err.Error(), text) {
				t.Fatalf("message %q does not say %q", err, text)
			}
		})
	}
}

// TestCancel checks that cancelling the context ends a handshake with a
// proxy that never answers, and closes the connection to it.
func TestCancel(t *testing.T) {
	for _, scheme := range []string{"http", "socks5"} {
		t.Run(scheme, func(t *testing.T) {
			checkLeaks(t)
			addr, got, closed := hangingProxy(t)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				_, err := via(t, scheme+"://"+addr).DialContext(ctx, mustURL(t, "ws://example.com"))
				errc <- err
			}()
			<-got // the client is waiting for the proxy's answer
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			<-closed
		})
	}
}

func TestDeadline(t *testing.T) {
	checkLeaks(t)
	addr, _, closed := hangingProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := via(t, "http://"+addr).DialContext(ctx, mustURL(t, "ws://example.com"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	<-closed
}

func TestDialErrors(t *testing.T) {
	errPick := errors.New("no proxy today")
	tests := []struct {
		name   string
		d      *Dialer
		target string
		want   string
	}{
		{"target scheme", &Dialer{}, "ftp://example.com", `unsupported target scheme "ftp"`},
		{"no host", &Dialer{}, "ws:///path", "no host"},
		{"proxy scheme", via(t, "socks4://127.0.0.1:1"), "ws://example.com", `unsupported proxy scheme "socks4"`},
		{"proxy func", &Dialer{Proxy: func(*url.URL) (*url.URL, error) { return nil, errPick }}, "ws://example.com", "no proxy today"},
		{"forward", &Dialer{
			Proxy:   via(t, "http://u:pw@proxy.invalid").Proxy,
			Forward: func(context.Context, string, string) (net.Conn, error) { return nil, errPick },
		}, "ws://example.com", "dial http://u:xxxxx@proxy.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.d.DialContext(testCtx(t), mustURL(t, tt.target))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestForwardReachesProxy(t *testing.T) {
	target := echoServer(t, nil, "hi")
	proxyAddr := startConnectProxy(t, &connectProxy{}, nil)
	var dialed []string
	d := via(t, "http://proxy.invalid:3128")
	d.Forward = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		var nd net.Dialer
		return nd.DialContext(ctx, network, proxyAddr)
	}
	c, err := d.DialContext(testCtx(t), mustURL(t, "ws://"+target))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")
	if len(dialed) != 1 || dialed[0] != "proxy.invalid:3128" {
		t.Fatalf("Forward dialed %q", dialed)
	}
}

func TestDefaultPorts(t *testing.T) {
	for in, want := range map[string]string{
		"ws://h": "h:80", "wss://h": "h:443", "http://h": "h:80", "https://h": "h:443",
		"wss://h:8443": "h:8443", "ws://[::1]/x": "[::1]:80",
	} {
		if got, err := targetAddr(mustURL(t, in)); got != want || err != nil {
			t.Errorf("targetAddr(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"http://p": "p:80", "https://p": "p:443", "socks5://p": "p:1080", "socks5h://p": "p:1080", "http://p:3128": "p:3128",
	} {
		if got, err := proxyAddr(mustURL(t, in)); got != want || err != nil {
			t.Errorf("proxyAddr(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// scriptedProxy reads one chunk from each client, answers with reply and
// ends its side. It then reads until the client closes, so that no unread
// byte makes the kernel reset the connection before the client has read
// the reply.
func scriptedProxy(t *testing.T, reply string) string {
	return server(t, nil, func(c net.Conn) {
		buf := make([]byte, 1024)
		if _, err := c.Read(buf); err != nil {
			return
		}
		io.WriteString(c, reply)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}

func TestMisbehavingHTTPProxy(t *testing.T) {
	for reply, want := range map[string]error{
		"":                                    io.ErrUnexpectedEOF,
		"HTTP/1.1 200 OK\r\n":                 io.ErrUnexpectedEOF,
		"SSH-2.0-OpenSSH_9.2\r\n\r\n":         errStatusLine,
		"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n": errHeaderLine,
	} {
		addr := scriptedProxy(t, reply)
		_, err := via(t, "http://"+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "reading the CONNECT response") {
			t.Errorf("reply %q: error = %v, want %v", reply, err, want)
		}
	}
}

func TestMisbehavingSOCKSProxy(t *testing.T) {
	for _, tt := range []struct {
		proxy, reply, want string
	}{
		{"socks5://", "", "EOF"},
		{"socks5://", "\x04\x00", errSOCKSVersion.Error()},
		{"socks5://", "\x05\x02", "picked authentication method 2, which was not offered"},
		{"socks5://u:p@", "\x05\x01", "picked authentication method 1, which was not offered"},
		{"socks5://", "\x05\x00\x05\x00\x00\x09", errSOCKSAddr.Error()},
	} {
		addr := scriptedProxy(t, tt.reply)
		_, err := via(t, tt.proxy+addr).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrAuth) {
			t.Errorf("reply %q: error = %v, want one saying %q", tt.reply, err, tt.want)
		}
	}
}

// TestSOCKSCredentialLength checks the bounds of RFC 1929 section 2: the
// user name and the password are each 1 to 255 bytes long.
func TestSOCKSCredentialLength(t *testing.T) {
	addr := startSOCKSProxy(t, &socksProxy{user: "u", pass: "p"})
	long := strings.Repeat("a", 256)
	for _, proxy := range []string{"socks5://" + long + ":p@" + addr, "socks5://u:" + long + "@" + addr, "socks5://u@" + addr, "socks5://:p@" + addr} {
		_, err := via(t, proxy).DialContext(testCtx(t), mustURL(t, "ws://example.com"))
		if err == nil || !strings.Contains(err.Error(), "1 to 255 bytes") {
			t.Errorf("error = %v", err)
		}
	}

	target := echoServer(t, nil, "hi")
	for _, cred := range [][2]string{{"u", "p"}, {long[1:], long[1:]}} {
		addr := startSOCKSProxy(t, &socksProxy{user: cred[0], pass: cred[1]})
		c, err := via(t, "socks5://"+cred[0]+":"+cred[1]+"@"+addr).DialContext(testCtx(t), mustURL(t, "ws://"+target))
		if err != nil {
			t.Fatalf("credentials of %d and %d bytes: %v", len(cred[0]), len(cred[1]), err)
		}
		roundTrip(t, c, "hi")
	}
}
