package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling/internal/testpki"
)

// server runs handle for each connection accepted on a loopback listener
// until the test ends, then closes the listener and waits for the
// handlers.
func server(t *testing.T, cfg *tls.Config, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echoServer echoes each connection, after sending greeting.
func echoServer(t *testing.T, cfg *tls.Config, greeting string) string {
	return server(t, cfg, func(c net.Conn) {
		if _, err := io.WriteString(c, greeting); err != nil {
			return
		}
		io.Copy(c, c)
	})
}

// splice copies between client and target until either side ends. The
// client's bytes are read from br, which may already hold some, and are
// also written to tee if it is not nil.
func splice(client net.Conn, br *bufio.Reader, target net.Conn, tee io.Writer) {
	done := make(chan struct{}, 2)
	go func() {
		w := io.Writer(target)
		if tee != nil {
			w = io.MultiWriter(target, tee)
		}
		io.Copy(w, br)
		done <- struct{}{}
	}()
	go func() {
		io.Copy(client, target)
		done <- struct{}{}
	}()
	<-done
	client.Close()
	target.Close()
	<-done
}

// syncBuffer is a bytes.Buffer safe for one writer and a later reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// connectProxy is an HTTP CONNECT proxy written for the tests.
type connectProxy struct {
	user, pass string            // required Basic credentials, if user is set
	refuse     string            // a status such as "403 Forbidden" to answer instead
	early      bool              // send the target's first bytes with the 200 head
	resolve    map[string]string // addresses to dial instead of the asked ones
	seen       chan *http.Request
	relayed    syncBuffer // the client's bytes sent to the target
}

func startConnectProxy(t *testing.T, p *connectProxy, cfg *tls.Config) string {
	p.seen = make(chan *http.Request, 16)
	return server(t, cfg, p.handle)
}

func (p *connectProxy) handle(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.seen <- req
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	if p.user != "" && req.Header.Get("Proxy-Authorization") != basic(p.user, p.pass) {
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if p.refuse != "" {
		io.WriteString(c, "HTTP/1.1 "+p.refuse+"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	addr := req.Host
	if a, ok := p.resolve[addr]; ok {
		addr = a
	}
	target, err := net.Dial("tcp", addr)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	head := []byte("HTTP/1.1 200 Connection established\r\nVia: 1.1 test\r\n\r\n")
	if p.early {
		buf := make([]byte, 512)
		n, _ := target.Read(buf)
		head = append(head, buf[:n]...)
	}
	if _, err := c.Write(head); err != nil {
		target.Close()
		return
	}
	splice(c, br, target, &p.relayed)
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// socksProxy is a SOCKS5 proxy (RFC 1928, RFC 1929) written for the tests.
type socksProxy struct {
	user, pass string // required credentials, if user is set
	reply      byte   // a failure reply code to send instead of connecting
	seen       chan socksSeen
}

// socksSeen is the destination of a CONNECT request as the proxy got it.
type socksSeen struct {
	atyp byte
	host string
	port int
}

func startSOCKSProxy(t *testing.T, p *socksProxy) string {
	p.seen = make(chan socksSeen, 16)
	return server(t, nil, p.handle)
}

func (p *socksProxy) handle(c net.Conn) {
	br := bufio.NewReader(c)
	if !p.negotiate(c, br) {
		return
	}
	dst, ok := readSOCKSRequest(br)
	if !ok {
		return
	}
	p.seen <- dst
	if p.reply != 0 {
		c.Write([]byte{5, p.reply, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(dst.host, strconv.Itoa(dst.port)))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	// The bound address is sent as a domain name to exercise that form.
	bound := append([]byte{5, 0, 0, 3, 5}, "bound"...)
	if _, err := c.Write(append(bound, 0x12, 0x34)); err != nil {
		target.Close()
		return
	}
	splice(c, br, target, nil)
}

// negotiate runs method selection and, when credentials are required, the
// RFC 1929 exchange.
func (p *socksProxy) negotiate(c net.Conn, br *bufio.Reader) bool {
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 5 {
		return false
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return false
	}
	want := byte(0)
	if p.user != "" {
		want = 2
	}
	if !bytes.Contains(methods, []byte{want}) {
		c.Write([]byte{5, 0xFF})
		return false
	}
	c.Write([]byte{5, want})
	if want == 0 {
		return true
	}
	user, pass, ok := readUserPass(br)
	if !ok {
		return false
	}
	if user != p.user || pass != p.pass {
		c.Write([]byte{1, 1})
		return false
	}
	c.Write([]byte{1, 0})
	return true
}

func readUserPass(br *bufio.Reader) (user, pass string, ok bool) {
	field := func() (string, bool) {
		n, err := br.ReadByte()
		if err != nil {
			return "", false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return string(b), err == nil
	}
	if v, err := br.ReadByte(); err != nil || v != 1 {
		return "", "", false
	}
	if user, ok = field(); !ok {
		return "", "", false
	}
	pass, ok = field()
	return user, pass, ok
}

func readSOCKSRequest(br *bufio.Reader) (socksSeen, bool) {
	var s socksSeen
	h := make([]byte, 4)
	if _, err := io.ReadFull(br, h); err != nil || h[0] != 5 || h[1] != 1 {
		return s, false
	}
	s.atyp = h[3]
	var addr []byte
	switch s.atyp {
	case 1:
		addr = make([]byte, 4)
	case 4:
		addr = make([]byte, 16)
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			return s, false
		}
		addr = make([]byte, n)
	default:
		return s, false
	}
	port := make([]byte, 2)
	if _, err := io.ReadFull(br, addr); err != nil {
		return s, false
	}
	if _, err := io.ReadFull(br, port); err != nil {
		return s, false
	}
	s.host = string(addr)
	if s.atyp != 3 {
		s.host = net.IP(addr).String()
	}
	s.port = int(binary.BigEndian.Uint16(port))
	return s, true
}

// hangingProxy accepts connections, reads one chunk and reports it on
// got, then reads until the client closes and reports that on closed.
func hangingProxy(t *testing.T) (addr string, got chan []byte, closed chan struct{}) {
	got, closed = make(chan []byte, 4), make(chan struct{}, 4)
	addr = server(t, nil, func(c net.Conn) {
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		got <- buf[:n]
		io.Copy(io.Discard, c)
		closed <- struct{}{}
	})
	return addr, got, closed
}

// testCA is a certificate authority generated for the tests, with a
// certificate for 127.0.0.1 and localhost.
type testCA struct {
	pool   *x509.CertPool
	server tls.Certificate
}

// newTestCA makes a root for the client and the chain the TLS proxy
// presents (internal/testpki).
func newTestCA(t *testing.T) *testCA {
	k := testpki.New(t)
	return &testCA{pool: k.Roots(), server: testpki.Chain(k.Leaf, k.Inter)}
}

func (ca *testCA) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{ca.server}}
}
