package starling

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling/internal/wsflate"
)

// Model-based testing of the write path: goroutines write random
// sequences of messages (Write, Writer with random chunk sizes,
// WritePrepared) of sizes around the frame codec's and the batch's
// boundaries, another sends pings and pongs, and a peer that reads in
// small pieces with pauses checks every frame by hand (RFC 6455 section
// 5.2) and that each writer's messages arrive whole and in order, once
// each, up to the close.

// modelSizes are the message sizes drawn from: the length encodings'
// limits (RFC 6455 section 5.2), the write buffer's and the batch's, a
// Writer's fragment, and more than a small socket buffer holds.
var modelSizes = []int{
	9, 10, 125, 126, 127, writeBufferSize - 14, writeBufferSize, writeBufferSize + 1,
	fragmentSize, fragmentSize + 1, batchSize - 14, batchSize - 13, 65535, 65536, 65537,
	200 << 10, separateWriteSize + 3,
}

// modelMessage returns writer w's message seq of size n (at least 9): w
// and seq, then bytes that depend on both.
func modelMessage(w, seq, n int) []byte {
	b := make([]byte, n)
	b[0] = byte(w)
	binary.BigEndian.PutUint64(b[1:9], uint64(seq))
	for i := 9; i < n; i++ {
		b[i] = byte(w*31 + seq*7 + i + i>>8)
	}
	return b
}

// slowReader reads at most a few KiB per call, pausing now and then, so
// that the writer meets a full socket buffer and partial writes.
// With stalls, it stops now and then for 20 ms, so that a write deadline
// cuts writes short.
type slowReader struct {
	r      io.Reader
	rng    *mathrand.Rand
	stalls bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	switch {
	case s.stalls && s.rng.IntN(32) == 0:
		time.Sleep(20 * time.Millisecond)
	case s.rng.IntN(8) == 0:
		time.Sleep(time.Duration(s.rng.IntN(500)) * time.Microsecond)
	}
	return s.r.Read(p[:min(len(p), 1+s.rng.IntN(6<<10))])
}

// modelPeer checks the frames of one connection as they arrive.
type modelPeer struct {
	server   bool // the Starling side is the server: frames unmasked
	deflate  bool
	dict     []byte // the decompressor's window: the last 32 KiB inflated
	inMsg    bool
	msgRsv1  bool
	msgOp    byte
	msg      []byte
	messages [][]byte
	pings    int
}

// frame checks f against RFC 6455 section 5 and assembles messages.
func (m *modelPeer) frame(f rawFrame) error {
	n := len(f.payload)
	minimal := n <= 125 && f.lenForm == 7 || n > 125 && n <= 65535 && f.lenForm == 16 || n > 65535 && f.lenForm == 64
	switch {
	case !minimal:
		return fmt.Errorf("section 5.2: %d bytes with a %d-bit length", n, f.lenForm)
	case f.masked == m.server:
		return fmt.Errorf("section 5.1: mask bit %v", f.masked)
	case f.rsv&0x30 != 0 || f.rsv&0x40 != 0 && (!m.deflate || f.op == 0 || f.op >= 8):
		return fmt.Errorf("section 5.2: RSV %#x on opcode %#x", f.rsv, f.op)
	}
	if f.op >= 8 {
		if !f.fin || n > 125 {
			return fmt.Errorf("section 5.5: control frame with fin %v, %d bytes", f.fin, n)
		}
		if f.op == 0x9 {
			if want := fmt.Sprint("p", m.pings); string(f.payload) != want {
				return fmt.Errorf("ping %q, want %q", f.payload, want)
			}
			m.pings++
		}
		return nil
	}
	switch {
	case f.op == 0 && !m.inMsg:
		return errors.New("section 5.4: continuation outside a message")
	case f.op != 0 && m.inMsg:
		return fmt.Errorf("section 5.4: opcode %#x inside a message", f.op)
	case f.op != 0:
		m.inMsg, m.msgOp, m.msgRsv1, m.msg = true, f.op, f.rsv&0x40 != 0, nil
	}
	m.msg = append(m.msg, f.payload...)
	if !f.fin {
		return nil
	}
	m.inMsg = false
	msg := m.msg
	if m.msgRsv1 {
		var err error
		if msg, err = m.inflate(msg); err != nil {
			return err
		}
	}
	m.messages = append(m.messages, msg)
	return nil
}

// inflate decompresses a message (RFC 7692 section 7.2.2) with the window
// its predecessors left.
func (m *modelPeer) inflate(p []byte) ([]byte, error) {
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff})), m.dict)
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("inflating %d bytes: %w", len(p), err)
	}
	m.dict = append(m.dict, out...)
	if len(m.dict) > 32<<10 {
		m.dict = m.dict[len(m.dict)-32<<10:]
	}
	return out, nil
}

// modelTransport is what the Conn of a model run writes to: a socket, the
// same made blocking behind the Conn's back (as os.File's Fd does), or
// TLS, which has no descriptor and takes the transport's Write.
type modelTransport string

const (
	modelSocket   modelTransport = "socket"
	modelBlocking modelTransport = "blocking"
	modelTLS      modelTransport = "tls"
)

// modelPair returns a Conn of role r over loopback TCP with a small send
// buffer, and the peer's end.
func modelPair(t *testing.T, r role, deflate bool, tr modelTransport) (*Conn, net.Conn) {
	peer, own := connPair(t, tcpTransport)
	_ = own.(*net.TCPConn).SetWriteBuffer(8 << 10)
	switch tr {
	case modelBlocking:
		f, err := own.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		f.Fd() // makes the socket, which f shares, blocking
		t.Cleanup(func() { f.Close() })
	case modelTLS:
		srv := httptest.NewUnstartedServer(nil)
		srv.StartTLS()
		srv.Close()
		serverCfg := &tls.Config{Certificates: srv.TLS.Certificates}
		clientCfg := &tls.Config{InsecureSkipVerify: true}
		if r == serverRole {
			own, peer = tls.Server(own, serverCfg), tls.Client(peer, clientCfg)
		} else {
			own, peer = tls.Client(own, clientCfg), tls.Server(peer, serverCfg)
		}
	}
	cfg := connConfig{rwc: own, client: r == clientRole}
	if deflate {
		cfg.ext = newExtensions(&CompressionOptions{Mode: CompressionContextTakeover, Threshold: -1}, wsflate.Params{})
	}
	c := newConn(cfg)
	t.Cleanup(func() { c.CloseNow(); peer.Close() })
	return c, peer
}

// modelWriter writes writer w's messages 0..count-1, drawing how from rng.
func modelWriter(ctx context.Context, c *Conn, w, count int, rng *mathrand.Rand) error {
	for seq := range count {
		p := modelMessage(w, seq, modelSizes[rng.IntN(len(modelSizes))])
		var err error
		switch rng.IntN(3) {
		case 0:
			err = c.Write(ctx, MessageBinary, p)
		case 1:
			var pm *PreparedMessage
			if pm, err = NewPreparedMessage(MessageBinary, p); err == nil {
				err = c.WritePrepared(ctx, pm)
			}
		default:
			err = writeInChunks(ctx, c, p, rng)
		}
		if err != nil {
			return fmt.Errorf("writer %d, message %d: %w", w, seq, err)
		}
	}
	return nil
}

// writeInChunks writes p with a Writer, in chunks of random sizes.
func writeInChunks(ctx context.Context, c *Conn, p []byte, rng *mathrand.Rand) error {
	wc, err := c.Writer(ctx, MessageBinary)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		k := min(len(p), rng.IntN(3<<(rng.IntN(17))))
		if _, err := wc.Write(p[:k]); err != nil {
			wc.Close()
			return err
		}
		p = p[k:]
	}
	return wc.Close()
}

func TestWriteModel(t *testing.T) {
	const writers, perWriter, pings = 3, 15, 25
	for _, tr := range []modelTransport{modelSocket, modelBlocking, modelTLS} {
		for _, r := range bothRoles {
			for _, deflate := range []bool{false, true} {
				seed := uint64(len(tr))<<8 | uint64(len(r))<<1
				if deflate {
					seed++
				}
				t.Run(fmt.Sprintf("%s/%s/deflate=%v", tr, r, deflate), func(t *testing.T) {
					runWriteModel(t, r, deflate, tr, seed, writers, perWriter, pings)
				})
			}
		}
	}
}

func runWriteModel(t *testing.T, r role, deflate bool, tr modelTransport, seed uint64, writers, perWriter, pings int) {
	c, peer := modelPair(t, r, deflate, tr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*testTimeout)
	defer cancel()

	// The peer pipelines small messages that a reader takes, so that a
	// server's writes are batched while it is ahead of its input.
	go func() {
		var b []byte
		for i := range 200 {
			b = append(b, encodeFrame(rawFrame{fin: true, op: 0x2, payload: []byte{byte(i)}}, r == serverRole, [4]byte{1, 2, 3, 4})...)
		}
		for range 20 {
			if _, err := peer.Write(b); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			if err := modelWriter(ctx, c, w, perWriter, mathrand.New(mathrand.NewPCG(seed, uint64(w)))); err != nil {
				errs <- err
			}
		})
	}
	wg.Go(func() {
		for i := range pings {
			err := c.WritePing(ctx, fmt.Append(nil, "p", i))
			if err == nil && i%3 == 0 {
				err = c.WritePong(ctx, []byte("unsolicited"))
			}
			if err != nil {
				errs <- fmt.Errorf("ping %d: %w", i, err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	closed := make(chan error, 1)
	go func() {
		wg.Wait()
		closed <- c.Close(StatusNormalClosure, "done")
	}()

	m := &modelPeer{server: r == serverRole, deflate: deflate}
	_ = peer.SetReadDeadline(time.Now().Add(4 * testTimeout))
	br := bufio.NewReader(&slowReader{r: peer, rng: mathrand.New(mathrand.NewPCG(seed, 99))})
	for {
		f, err := readRawFrame(br)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(m.messages), err)
		}
		if f.op == 0x8 {
			break
		}
		if err := m.frame(f); err != nil {
			t.Fatalf("after %d messages: %v", len(m.messages), err)
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m.inMsg {
		t.Error("the close frame came inside a message (section 5.4)")
	}
	if m.pings != pings {
		t.Errorf("got %d pings, want %d", m.pings, pings)
	}
	checkModelMessages(t, m.messages, writers, perWriter, seed)
	_, _ = peer.Write(encodeFrame(rawFrame{fin: true, op: 0x8, payload: []byte{3, 232}}, r == serverRole, [4]byte{}))
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Error("Close did not return")
	}
}

// checkModelMessages checks that each writer's messages arrived whole, in
// order, once each.
func checkModelMessages(t *testing.T, got [][]byte, writers, perWriter int, seed uint64) {
	t.Helper()
	next := make([]int, writers)
	for i, msg := range got {
		if len(msg) < 9 || int(msg[0]) >= writers {
			t.Fatalf("message %d: %d bytes from no writer", i, len(msg))
		}
		w, seq := int(msg[0]), int(binary.BigEndian.Uint64(msg[1:9]))
		if seq != next[w] {
			t.Fatalf("message %d: writer %d's message %d, want %d", i, w, seq, next[w])
		}
		if !bytes.Equal(msg, modelMessage(w, seq, len(msg))) {
			t.Fatalf("message %d: writer %d's message %d (%d bytes) is corrupt", i, w, seq, len(msg))
		}
		next[w]++
	}
	for w, n := range next {
		if n != perWriter {
			t.Errorf("writer %d: %d messages arrived, want %d", w, n, perWriter)
		}
	}
}
