package interop

//lint:file-ignore SA1019 x/net's deprecated http2.Transport is the only Go client that sends extended CONNECT: Go 1.26's http.Transport refuses a ":protocol" header.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/starling-ws/starling"
)

// TestHTTP2ExtendedConnect checks Starling's server side of RFC 8441:
// golang.org/x/net/http2's client opens a WebSocket with an extended
// CONNECT over cleartext HTTP/2, and frames cross the stream both ways.
//
// Go 1.26's server honours extended CONNECT only when the process starts
// with GODEBUG=http2xconnect=1, so the server runs in a child process: this
// test binary, started again with that variable.
func TestHTTP2ExtendedConnect(t *testing.T) {
	if os.Getenv("STARLING_H2_SERVER") == "1" {
		serveHTTP2Echo(t)
		return
	}
	addr, stop := startHTTP2Server(t)
	defer stop()

	tr := h2cTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "http://"+addr+"/echo", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Protocol", "bogus, chat.v1")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s, want 200 (RFC 8441 section 5)", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v1" {
		t.Fatalf("subprotocol %q, want chat.v1", got)
	}

	br := bufio.NewReader(resp.Body)
	for _, msg := range []string{"hello over h2", strings.Repeat("κ", 40000)} {
		if _, err := pw.Write(maskedFrame(0x1, []byte(msg))); err != nil {
			t.Fatal(err)
		}
		op, payload := readServerFrame(t, br)
		if op != 0x1 || string(payload) != msg {
			t.Fatalf("echo: opcode %#x, %d bytes; want text of %d bytes", op, len(payload), len(msg))
		}
	}
	// The close handshake: Starling echoes the code (RFC 6455 section
	// 5.5.1).
	var closing [5]byte
	binary.BigEndian.PutUint16(closing[:], 4001)
	copy(closing[2:], "bye")
	if _, err := pw.Write(maskedFrame(0x8, closing[:])); err != nil {
		t.Fatal(err)
	}
	op, payload := readServerFrame(t, br)
	if op != 0x8 || len(payload) < 2 || binary.BigEndian.Uint16(payload) != 4001 {
		t.Fatalf("close answer: opcode %#x payload %q, want code 4001", op, payload)
	}
	pw.Close()
}

// serveHTTP2Echo is the child process: an h2c server whose handler echoes
// with Starling until the parent closes stdin.
func serveHTTP2Echo(t *testing.T) {
	srv, ln := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			Subprotocols: []string{"chat.v1"},
			Compression:  starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		// On HTTP/2 the WebSocket lives as long as this handler.
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	})
	os.Stdout.WriteString(ln.Addr().String() + "\n")
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

// startHTTP2Server starts the child process and returns its address.
func startHTTP2Server(t *testing.T) (string, func()) {
	t.Helper()
	return startChild(t, "TestHTTP2ExtendedConnect", "STARLING_H2_SERVER=1")
}

// startChild runs this test binary again as a child process for the test
// named test, with GODEBUG=http2xconnect=1 and env added to its
// environment, and returns the first line it prints (its server's address)
// and a function that stops it by closing its stdin.
func startChild(t *testing.T, test string, env ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(append(os.Environ(), "GODEBUG=http2xconnect=1"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		stdin.Close()
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("the server process of %s did not start: %v", test, err)
	}
	return strings.TrimSpace(line), stop
}

// maskedFrame encodes one final client frame, masked (RFC 6455 section 5.3).
func maskedFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked, final server frame.
func readServerFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("reading a frame header: %v", err)
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		t.Fatalf("frame header %x: want a final, unmasked frame", h)
	}
	n := int(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		io.ReadFull(br, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		io.ReadFull(br, ext[:])
		n = int(binary.BigEndian.Uint64(ext[:]))
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("reading a %d-byte payload: %v", n, err)
	}
	return h[0] & 0x0F, payload
}

// h2cServer serves handler with cleartext HTTP/2 on a loopback port.
func h2cServer(t *testing.T, handler http.HandlerFunc) (*http.Server, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: &protocols, Handler: handler}
	go srv.Serve(ln)
	return srv, ln
}

// h2cTransport is x/net's HTTP/2 transport over cleartext TCP.
func h2cTransport() *http2.Transport {
	return &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
}

// TestHTTP2Dial checks Starling's client side of RFC 8441 against its
// server side: Dial with an HTTP2Transport opens the WebSocket as an
// HTTP/2 stream, negotiates a subprotocol and permessage-deflate, echoes
// messages up to 1 MiB and closes with a code.
func TestHTTP2Dial(t *testing.T) {
	addr, stop := startHTTP2Server(t)
	defer stop()
	tr := h2cTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, resp, err := starling.Dial(ctx, "ws://"+addr+"/echo", &starling.DialOptions{
		HTTP2Transport: tr,
		Subprotocols:   []string{"bogus", "chat.v1"},
		Compression:    starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("response %s %s, want HTTP/2.0 200", resp.Proto, resp.Status)
	}
	if c.Subprotocol() != "chat.v1" {
		t.Fatalf("subprotocol %q, want chat.v1", c.Subprotocol())
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q, want permessage-deflate", ext)
	}
	big := []byte(strings.Repeat("compressible ", 80000))
	for _, m := range []struct {
		typ starling.MessageType
		p   []byte
	}{{starling.MessageText, []byte("hello over h2")}, {starling.MessageBinary, []byte{0, 1, 2}}, {starling.MessageText, big}} {
		if err := c.Write(ctx, m.typ, m.p); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != m.typ || string(p) != string(m.p) {
			t.Fatalf("echo: got %v of %d bytes, want %v of %d", typ, len(p), m.typ, len(m.p))
		}
	}
	if err := c.Close(4001, "bye"); err != nil {
		t.Fatalf("close handshake over HTTP/2: %v", err)
	}

	// Deadlines work on the stream: a connection that hears nothing for
	// its idle timeout ends with 1001.
	idle, _, err := starling.Dial(ctx, "ws://"+addr+"/echo", &starling.DialOptions{HTTP2Transport: tr, IdleTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer idle.CloseNow()
	if _, _, err := idle.Read(ctx); starling.CloseStatus(err) != starling.StatusGoingAway {
		t.Fatalf("idle stream: got %v, want 1001 after the idle timeout", err)
	}
}

// TestHTTP2DialRefused checks that Dial over HTTP/2 fails clearly against
// a server that did not enable extended CONNECT (this process's, started
// without GODEBUG=http2xconnect=1).
func TestHTTP2DialRefused(t *testing.T) {
	srv, ln := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		starling.Accept(w, r, nil)
	})
	defer srv.Close()
	tr := h2cTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := starling.Dial(ctx, "ws://"+ln.Addr().String()+"/", &starling.DialOptions{HTTP2Transport: tr})
	if err == nil || !strings.Contains(err.Error(), "extended connect") {
		t.Fatalf("got %v, want an error saying the server has no extended CONNECT", err)
	}
	_, _, err = starling.Dial(ctx, "ws://"+ln.Addr().String()+"/", &starling.DialOptions{HTTP2Transport: tr, Pins: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "Pins") {
		t.Fatalf("got %v, want Pins refused with HTTP2Transport", err)
	}
}
