package starling

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file is a raw-frame WebSocket peer for tests: it builds every byte of
// the handshake and of each frame by hand, without the package's own codec,
// so that a bug in the codec cannot hide itself. It runs over net.Pipe or
// loopback TCP, as the client facing a Starling server or as the server
// facing a Starling client.

// role is the role of the Starling side under test.
type role string

const (
	serverRole role = "server" // Starling accepted; the raw peer is the client
	clientRole role = "client" // Starling dialed; the raw peer is the server
)

var bothRoles = []role{serverRole, clientRole}

// transport is the byte stream under the connection.
type transport string

const (
	pipeTransport transport = "pipe"
	tcpTransport  transport = "tcp"
)

var bothTransports = []transport{pipeTransport, tcpTransport}

// testTimeout bounds every wait in the conformance tests, so that a bug
// shows as a failure, never as a hung test.
const testTimeout = 10 * time.Second

// rfcKey and rfcAccept are the example key and answer of RFC 6455 section
// 1.3.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// rawFrame is a frame as the peer sends or receives it.
type rawFrame struct {
	fin     bool
	rsv     byte // the RSV bits in place: 0x40 RSV1, 0x20 RSV2, 0x10 RSV3
	op      byte
	payload []byte

	// For sending: flipMask breaks the masking rule of RFC 6455 section
	// 5.1 (an unmasked client frame or a masked server frame).
	flipMask bool

	// lenForm is the length encoding, 7, 16 or 64: what a received
	// header used, or for sending, if set, the form to use even when it is
	// not the minimal one (RFC 6455 section 5.2).
	lenForm int

	// For receiving: whether the header had the mask bit, and the key.
	masked bool
	key    [4]byte
}

// encodeFrame builds the bytes of f, masked with key if mask is set.
func encodeFrame(f rawFrame, mask bool, key [4]byte) []byte {
	b0 := f.rsv | f.op&0x0F
	if f.fin {
		b0 |= 0x80
	}
	var mbit byte
	if mask {
		mbit = 0x80
	}
	b := []byte{b0}
	switch n := len(f.payload); {
	case f.lenForm == 16: // possibly non-minimal, to test that rule
		b = append(b, mbit|126, byte(n>>8), byte(n))
	case f.lenForm == 64:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case n <= 125:
		b = append(b, mbit|byte(n))
	case n <= 0xFFFF:
		b = append(b, mbit|126, byte(n>>8), byte(n))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !mask {
		return append(b, f.payload...)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, f.payload...)
	for i := range f.payload {
		b[start+i] ^= key[i%4]
	}
	return b
}

// rawPeer is the hand-built side of a connection under test.
type rawPeer struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	mask bool // the peer is the client, so it masks and expects unmasked frames
	chop bool // write one byte per Write call

	frames chan rawFrame
	done   chan struct{} // closed when the reader stops; err is then set
	err    error
}

// startReading starts the goroutine that decodes the Starling side's frames.
// It keeps reading so that the Starling side never blocks on a write, even
// over net.Pipe.
func (p *rawPeer) startReading() {
	p.frames = make(chan rawFrame, 1<<14)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			f, err := readRawFrame(p.br)
			if err != nil {
				p.err = err
				return
			}
			p.frames <- f
		}
	}()
}

// readRawFrame decodes one frame by hand (RFC 6455 section 5.2), unmasking
// its payload.
func readRawFrame(r io.Reader) (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: h[0] & 0x0F, masked: h[1]&0x80 != 0, lenForm: 7}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n, f.lenForm = uint64(binary.BigEndian.Uint16(ext[:])), 16
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n, f.lenForm = binary.BigEndian.Uint64(ext[:]), 64
	}
	if n > 64<<20 {
		return f, fmt.Errorf("raw peer: frame of %d bytes is beyond what tests send", n)
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		f.key = key
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

// write sends raw bytes, one byte per call if p.chop is set. Errors are
// returned, not fatal: the Starling side may rightly have closed already.
func (p *rawPeer) write(b []byte) error {
	_ = p.nc.SetWriteDeadline(time.Now().Add(testTimeout))
	if !p.chop {
		_, err := p.nc.Write(b)
		return err
	}
	for i := range b {
		if _, err := p.nc.Write(b[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// send encodes and writes f, masked as the peer's role requires unless
// f.flipMask says otherwise.
func (p *rawPeer) send(f rawFrame) error {
	return p.write(encodeFrame(f, p.mask != f.flipMask, [4]byte{0x37, 0xfa, 0x21, 0x3d}))
}

// sendClose sends a close frame with code and reason.
func (p *rawPeer) sendClose(code uint16, reason string) error {
	payload := binary.BigEndian.AppendUint16(nil, code)
	return p.send(rawFrame{fin: true, op: 0x8, payload: append(payload, reason...)})
}

// next returns the next frame from the Starling side, checking the masking
// rule of RFC 6455 section 5.1 on it.
func (p *rawPeer) next() (rawFrame, error) {
	p.t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	select {
	case f := <-p.frames:
		if f.masked == p.mask {
			p.t.Errorf("section 5.1: frame from the Starling %s has mask bit %v", p.starlingRole(), f.masked)
		}
		return f, nil
	case <-p.done:
		select {
		case f := <-p.frames:
			return f, nil
		default:
		}
		return rawFrame{}, p.err
	case <-timer.C:
		return rawFrame{}, errors.New("raw peer: timed out waiting for a frame")
	}
}

func (p *rawPeer) starlingRole() role {
	if p.mask {
		return serverRole
	}
	return clientRole
}

// nextData returns the next frame that is not a pong.
func (p *rawPeer) nextNonPong() (rawFrame, error) {
	p.t.Helper()
	for {
		f, err := p.next()
		if err != nil || f.op != 0xA {
			return f, err
		}
	}
}

// expectClose waits for the Starling side's close frame, skipping pongs,
// checks its code, closes the peer's end and returns the reason.
func (p *rawPeer) expectClose(want StatusCode) string {
	p.t.Helper()
	f, err := p.nextNonPong()
	if err != nil {
		p.t.Fatalf("waiting for a close frame with %v: %v", want, err)
	}
	if f.op != 0x8 {
		p.t.Fatalf("got opcode %#x (%d bytes), want a close frame with %v", f.op, len(f.payload), want)
	}
	code, reason := decodeClose(p.t, f.payload)
	if code != want {
		p.t.Fatalf("close frame has code %v (reason %q), want %v", code, reason, want)
	}
	p.nc.Close()
	return reason
}

// decodeClose splits a close payload into code and reason.
func decodeClose(t testing.TB, p []byte) (StatusCode, string) {
	t.Helper()
	switch len(p) {
	case 0:
		return StatusNoStatusRcvd, ""
	case 1:
		t.Fatalf("close frame with a 1-byte payload")
	}
	return StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
}

// expectEOF waits for the Starling side to close the connection, failing on
// any frame but a pong.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	f, err := p.nextNonPong()
	if err == nil {
		p.t.Fatalf("got opcode %#x, want the connection closed", f.op)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
		p.t.Fatalf("want the connection closed, got %v", err)
	}
}

// serveLoopback listens on loopback until the test ends and hands each
// connection to handle, on a goroutine of its own.
func serveLoopback(t testing.TB, handle func(nc net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(nc)
		}
	}()
	return ln
}

// connPair returns the two ends of a byte stream of transport tr.
func connPair(t testing.TB, tr transport) (a, b net.Conn) {
	t.Helper()
	if tr == pipeTransport {
		return net.Pipe()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	a, err = net.DialTimeout("tcp", ln.Addr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	return a, r.c
}

// newPair connects a Starling Conn of role r to a raw peer over tr, doing
// the peer's half of the opening handshake by hand, and closes both when
// the test ends.
func newPair(t testing.TB, r role, tr transport) (*Conn, *rawPeer) {
	t.Helper()
	return newPairDeflate(t, r, tr, false)
}

// newPairDeflate is newPair with permessage-deflate (RFC 7692, no
// parameters, so with context takeover) negotiated if deflate is set.
func newPairDeflate(t testing.TB, r role, tr transport, deflate bool) (*Conn, *rawPeer) {
	t.Helper()
	a, b := connPair(t, tr)
	var c *Conn
	var p *rawPeer
	if r == serverRole {
		opts, offer := &AcceptOptions{}, ""
		if deflate {
			opts.Compression = CompressionOptions{Mode: CompressionContextTakeover, Threshold: -1}
			offer = "permessage-deflate"
		}
		var answer string
		c, p, answer = serveOne(t, a, b, opts, offer)
		if deflate != strings.HasPrefix(answer, "permessage-deflate") {
			t.Fatalf("Sec-WebSocket-Extensions: %q with deflate %v", answer, deflate)
		}
	} else {
		c, p = dialOne(t, a, b, deflate)
	}
	t.Cleanup(func() {
		c.CloseNow()
		p.nc.Close()
	})
	return c, p
}

// newServerPair is newPair for a server Conn made with cfg (its rwc set
// here), for options Accept takes only from an http.Server's request, such
// as the idle timeout. The raw peer is the client.
func newServerPair(t testing.TB, tr transport, cfg connConfig) (*Conn, *rawPeer) {
	t.Helper()
	a, b := connPair(t, tr)
	cfg.rwc = b
	c := newConn(cfg)
	p := &rawPeer{t: t, nc: a, br: bufio.NewReader(a), mask: true}
	p.startReading()
	t.Cleanup(func() {
		c.CloseNow()
		p.nc.Close()
	})
	return c, p
}

// oneConnListener is a net.Listener that yields one connection, so that a
// real http.Server can serve over net.Pipe as well as over TCP.
type oneConnListener struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func newOneConnListener(c net.Conn) *oneConnListener {
	l := &oneConnListener{ch: make(chan net.Conn, 1), closed: make(chan struct{}), addr: c.LocalAddr()}
	l.ch <- c
	return l
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return l.addr }

// serveOne runs Accept with opts in a real http.Server on server and does
// the client's handshake by hand on client, offering the extensions offer
// if it is not empty. It returns the server's answer to the offer too.
func serveOne(t testing.TB, client, server net.Conn, opts *AcceptOptions, offer string) (*Conn, *rawPeer, string) {
	t.Helper()
	accepted := make(chan *Conn, 1)
	ext := ""
	if offer != "" {
		ext = "Sec-WebSocket-Extensions: " + offer + "\r\n"
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			t.Errorf("Accept: %v", err)
		}
		accepted <- c
	})}
	ln := newOneConnListener(server)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p := &rawPeer{t: t, nc: client, br: bufio.NewReader(client), mask: true}
	req := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rfcKey + "\r\nSec-WebSocket-Version: 13\r\n" + ext + "\r\n"
	_ = client.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(client, req); err != nil {
		t.Fatalf("writing the handshake: %v", err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	_ = client.SetDeadline(time.Time{})
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept {
		t.Fatalf("handshake answered %s with Sec-WebSocket-Accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	var c *Conn
	select {
	case c = <-accepted:
	case <-time.After(testTimeout):
		t.Fatal("Accept did not return")
	}
	if c == nil {
		t.FailNow()
	}
	p.startReading()
	return c, p, resp.Header.Get("Sec-WebSocket-Extensions")
}

// dialOne runs Dial over client and answers its handshake by hand on server.
func dialOne(t testing.TB, client, server net.Conn, deflate bool) (*Conn, *rawPeer) {
	t.Helper()
	p := &rawPeer{t: t, nc: server, br: bufio.NewReader(server)}
	answered := make(chan error, 1)
	var edit func([]string, string) []string
	if deflate {
		edit = func(lines []string, _ string) []string {
			return append(lines, "Sec-WebSocket-Extensions: permessage-deflate")
		}
	}
	go func() { answered <- answerHandshake(p.nc, p.br, edit) }()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	opts := &DialOptions{
		NetDialContext: func(context.Context, string, string) (net.Conn, error) { return client, nil },
	}
	if deflate {
		opts.Compression.Mode = CompressionContextTakeover
		opts.Compression.Threshold = -1
	}
	c, _, err := Dial(ctx, "ws://example.com/chat", opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	p.startReading()
	return c, p
}

// answerHandshake reads a client's handshake request and answers it by
// hand with 101; edit, if set, may change the response headers (one
// "Name: value" line each) before they are sent.
func answerHandshake(nc net.Conn, br *bufio.Reader, edit func(lines []string, key string) []string) error {
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	defer nc.SetDeadline(time.Time{})
	req, err := http.ReadRequest(br)
	if err != nil {
		return fmt.Errorf("raw server: reading the handshake request: %w", err)
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	lines := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " + rawAccept(key)}
	if edit != nil {
		lines = edit(lines, key)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(nc, resp); err != nil {
		return fmt.Errorf("raw server: writing the handshake response: %w", err)
	}
	return nil
}

// rawAccept computes Sec-WebSocket-Accept independently of acceptKey.
func rawAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// message is a data message read by the Starling side.
type message struct {
	typ  MessageType
	data []byte
}

// starlingReader reads messages from a Starling Conn in the background,
// as every Conn needs for control frames to be handled.
type starlingReader struct {
	msgs chan message
	done chan struct{} // closed when Read has failed; err is then set
	err  error
}

// readInBackground reads c's messages on a goroutine of its own,
// alternating between Read and ReadSlice (whose slices it copies), and
// starting with the one the previous call did not: every test that reads
// through it in several subtests exercises both.
func readInBackground(c *Conn) *starlingReader {
	r := &starlingReader{msgs: make(chan message, 64), done: make(chan struct{})}
	slice := readSliceFirst.Add(1)%2 == 0
	go func() {
		defer close(r.done)
		for ; ; slice = !slice {
			read := c.Read
			if slice {
				read = c.ReadSlice
			}
			typ, data, err := read(context.Background())
			if err != nil {
				r.err = err
				return
			}
			if slice {
				data = bytes.Clone(data)
			}
			r.msgs <- message{typ, data}
		}
	}()
	return r
}

var readSliceFirst atomic.Uint32

// next returns the next message read.
func (r *starlingReader) next(t testing.TB) message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-r.done:
		select {
		case m := <-r.msgs:
			return m
		default:
		}
		t.Fatalf("Read failed: %v", r.err)
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for a message")
	}
	return message{}
}

// wait returns Read's final error.
func (r *starlingReader) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for Read to fail")
		return nil
	}
}
