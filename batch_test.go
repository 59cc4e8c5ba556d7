package starling

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pipelined writes n text frames "m0", "m1", ... in one write, so that the
// server reads several with one read and is ahead of its input.
func pipelined(p *rawPeer, n int) error { return pipelinedFrom(p, 0, n) }

// pipelinedFrom is pipelined for frames "m<start>" to "m<start+n-1>".
func pipelinedFrom(p *rawPeer, start, n int) error {
	var b []byte
	for i := start; i < start+n; i++ {
		b = append(b, encodeFrame(rawFrame{fin: true, op: 0x1, payload: fmt.Appendf(nil, "m%d", i)}, true, [4]byte{9, 8, 7, 6})...)
	}
	return p.write(b)
}

// readAheadPair returns a server whose peer pipelined n messages, after it
// has read the first and the others are buffered: its writes are held.
func readAheadPair(t *testing.T, n int) (*Conn, *rawPeer) {
	t.Helper()
	c, p := newPair(t, serverRole, tcpTransport)
	if err := pipelined(p, n); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for !c.flags.has(flagReadAhead) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return c, p
}

// expectText reads frames until want, failing on anything else.
func expectText(t *testing.T, p *rawPeer, want string) {
	t.Helper()
	f, err := p.nextNonPong()
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	if f.op != 0x1 || string(f.payload) != want {
		t.Fatalf("got opcode %#x %q, want text %q", f.op, f.payload, want)
	}
}

// TestBatchEchoesPipelinedInOrder has a server echo messages the client
// sent in one burst: the echoes are gathered while more input is buffered
// (Write returns with the frame still held), and all arrive, in order,
// once the reader runs out of input.
func TestBatchEchoesPipelinedInOrder(t *testing.T) {
	c, p := newPair(t, serverRole, tcpTransport)
	const n = 200
	if err := pipelined(p, n); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gathered := 0
	for range n {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatal(err)
		}
		if c.flags.has(flagBatched) {
			gathered++
		}
	}
	if gathered == 0 {
		t.Error("no echo was gathered into a batch, though the input was pipelined")
	}
	// No read follows the last echo: the timer sends what is left.
	for i := range n {
		expectText(t, p, fmt.Sprintf("m%d", i))
	}
}

// TestBatchDoesNotWaitForSlowReader checks that a frame gathered while
// input was buffered still leaves promptly when the reader does not come
// back to read: a program that answers, then works for a long time before
// its next read, must not hold its answer back.
func TestBatchDoesNotWaitForSlowReader(t *testing.T) {
	c, p := readAheadPair(t, 2)
	ctx := context.Background()
	if err := c.Write(ctx, MessageText, []byte("answer")); err != nil {
		t.Fatal(err)
	}
	if !c.flags.has(flagBatched) {
		t.Fatal("the answer was not gathered; the test checks nothing")
	}
	// The reader never reads again; the answer must still arrive.
	expectText(t, p, "answer")
}

// TestBatchKeepsOrderWithControlAndPrepared checks that frames written
// another way (a ping, a prepared message, the close frame) never overtake
// gathered ones.
func TestBatchKeepsOrderWithControlAndPrepared(t *testing.T) {
	c, p := readAheadPair(t, 3)
	ctx := context.Background()
	for _, s := range []string{"a", "b"} {
		if err := c.Write(ctx, MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WritePing(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	pm, err := NewPreparedMessage(MessageText, []byte("prepared"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, MessageText, []byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePrepared(ctx, pm); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, MessageText, []byte("d")); err != nil {
		t.Fatal(err)
	}
	c.CloseNow() // sends what is gathered before closing

	expectText(t, p, "a")
	expectText(t, p, "b")
	if f, err := p.next(); err != nil || f.op != 0x9 || string(f.payload) != "ping" {
		t.Fatalf("got %#x %q %v, want the ping", f.op, f.payload, err)
	}
	expectText(t, p, "c")
	expectText(t, p, "prepared")
	expectText(t, p, "d")
	p.expectEOF()
}

// TestBatchConcurrentWriters has other goroutines write while the reader
// echoes pipelined input, so gathered frames meet writers that find the
// batch, the reader's flush and the timer all at once: every message must
// arrive whole, and each writer's in its order.
func TestBatchConcurrentWriters(t *testing.T) {
	c, p := newPair(t, serverRole, tcpTransport)
	const echoes, writers, each = 300, 4, 200
	ctx := context.Background()
	done := make(chan error, writers+1)
	for w := range writers {
		go func() {
			for i := range each {
				if err := c.Write(ctx, MessageText, fmt.Appendf(nil, "w%d-%d", w, i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range echoes {
			typ, msg, err := c.Read(ctx)
			if err == nil {
				err = c.Write(ctx, typ, msg)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < echoes; i += 50 {
		if err := pipelinedFrom(p, i, 50); err != nil {
			t.Fatal(err)
		}
	}
	next := make(map[string]int) // per source ("m" for echoes, "w0"...): the index expected
	for range echoes + writers*each {
		f, err := p.nextNonPong()
		if err != nil {
			t.Fatal(err)
		}
		msg := string(f.payload)
		src, index, ok := strings.Cut(msg, "-")
		if strings.HasPrefix(msg, "m") {
			src, index, ok = "m", msg[1:], true
		}
		i, err := strconv.Atoi(index)
		if !ok || err != nil {
			t.Fatalf("unexpected message %q", msg)
		}
		if i != next[src] {
			t.Fatalf("from %s: got %q, want index %d", src, msg, next[src])
		}
		next[src]++
	}
	for range writers + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
