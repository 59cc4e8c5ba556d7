package starling

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// assembler rebuilds the Starling side's messages from its frames as the
// peer receives them, failing on any interleaving that RFC 6455 section 5.4
// forbids: a new data frame before the previous message's last fragment,
// or a continuation without a message.
type assembler struct {
	t         testing.TB
	inMessage bool
	op        byte
	buf       []byte
	between   int // control frames seen between two fragments
}

// add takes one frame and returns a finished message, if any.
func (a *assembler) add(f rawFrame) (op byte, msg []byte, done bool) {
	a.t.Helper()
	if f.op >= 0x8 {
		if a.inMessage {
			a.between++
		}
		return f.op, f.payload, false
	}
	switch {
	case f.op == 0x0 && !a.inMessage:
		a.t.Fatalf("section 5.4: continuation frame without a message")
	case f.op != 0x0 && a.inMessage:
		a.t.Fatalf("section 5.4: new data frame (op %#x) inside a fragmented message: messages interleaved", f.op)
	}
	if f.op != 0x0 {
		a.inMessage, a.op, a.buf = true, f.op, nil
	}
	a.buf = append(a.buf, f.payload...)
	if !f.fin {
		return 0, nil, false
	}
	a.inMessage = false
	return a.op, a.buf, true
}

// TestConcurrentWriters checks that messages written from many goroutines
// at once, one of them streamed in fragments through Writer, never
// interleave (RFC 6455 section 5.4), while pings may go out between
// fragments.
func TestConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 25
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		readInBackground(c) // for Ping's pongs
		ctx := dialCtx(t)
		streamed := randomBytes(300<<10, 7)

		var wg sync.WaitGroup
		errs := make(chan error, writers+2)
		for g := range writers {
			wg.Go(func() {
				for i := range perWriter {
					msg := fmt.Appendf(nil, "w%d-%03d:", g, i)
					msg = append(msg, bytes.Repeat([]byte{'a' + byte(g)}, (i*977)%5000)...)
					if err := c.Write(ctx, MessageText, msg); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			w, err := c.Writer(ctx, MessageBinary)
			if err != nil {
				errs <- err
				return
			}
			for rest := streamed; len(rest) > 0; {
				n := min(len(rest), 7001)
				if _, err := w.Write(rest[:n]); err != nil {
					errs <- err
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				errs <- err
			}
		})
		pings := make(chan error, 1)
		go func() {
			for range 5 {
				if _, err := c.Ping(ctx); err != nil {
					pings <- err
					return
				}
			}
			pings <- nil
		}()

		a := &assembler{t: t}
		next := map[int]int{}
		gotStream := false
		for received := 0; received < writers*perWriter+1; {
			f, err := p.next()
			if err != nil {
				t.Fatalf("after %d messages: %v", received, err)
			}
			op, msg, done := a.add(f)
			if op == 0x9 {
				p.send(rawFrame{fin: true, op: 0xA, payload: msg})
			}
			if !done {
				continue
			}
			received++
			if op == 0x2 {
				if !bytes.Equal(msg, streamed) {
					t.Fatalf("streamed message of %d bytes arrived as %d bytes, not intact", len(streamed), len(msg))
				}
				gotStream = true
				continue
			}
			var g, i int
			if _, err := fmt.Sscanf(string(msg), "w%d-%03d:", &g, &i); err != nil || i != next[g] {
				t.Fatalf("message %.20q out of order or garbled (want w%d-%03d)", msg, g, next[g])
			}
			if want := (i * 977) % 5000; len(msg) != len(fmt.Sprintf("w%d-%03d:", g, i))+want || bytes.Count(msg, []byte{'a' + byte(g)}) < want {
				t.Fatalf("message %.20q has the wrong body", msg)
			}
			next[g]++
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if !gotStream {
			t.Fatal("streamed message missing")
		}
		// Answer the pings still to come until the last one returns.
		for answered := false; !answered; {
			select {
			case err := <-pings:
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				answered = true
			case f := <-p.frames:
				if f.op != 0x9 {
					t.Fatalf("unexpected frame op %#x after all messages", f.op)
				}
				p.send(rawFrame{fin: true, op: 0xA, payload: f.payload})
			case <-time.After(testTimeout):
				t.Fatal("Ping did not return")
			}
		}
		t.Logf("%d control frames went out between fragments", a.between)
	})
}

// TestWriterReaderStreaming checks that a large message streams both ways
// through Writer and Reader without being held whole, fragmented as RFC
// 6455 section 5.4 allows.
func TestWriterReaderStreaming(t *testing.T) {
	const size = 8 << 20
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		data := randomBytes(size, 99)
		want := sha256.Sum256(data)

		// Starling writes.
		w, err := c.Writer(ctx, MessageBinary)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 100_003)
				w.Write(rest[:n])
				rest = rest[n:]
			}
			w.Close()
		}()
		a := &assembler{t: t}
		frames := 0
		for {
			f, err := p.next()
			if err != nil {
				t.Fatal(err)
			}
			frames++
			if op, msg, done := a.add(f); done {
				if op != 0x2 || sha256.Sum256(msg) != want {
					t.Fatalf("streamed message arrived as op %#x, %d bytes, not intact", op, len(msg))
				}
				break
			}
		}
		if frames < 2 {
			t.Errorf("an %d-byte message streamed through Writer went out in %d frame", size, frames)
		}

		// Starling reads.
		go func() {
			const frag = 1 << 20
			for off := 0; off < size; off += frag {
				op := byte(0x0)
				if off == 0 {
					op = 0x2
				}
				if p.send(rawFrame{fin: off+frag >= size, op: op, payload: data[off : off+frag]}) != nil {
					return
				}
			}
		}()
		typ, rd, err := c.Reader(ctx)
		if err != nil || typ != MessageBinary {
			t.Fatalf("Reader: %v %v", typ, err)
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, rd, make([]byte, 4096))
		if err != nil || n != size || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("read %d bytes (%v), want %d intact", n, err, size)
		}
	})
}

// TestWriteInvalidUTF8 checks that a text message that is not UTF-8 is
// refused before anything is sent (RFC 6455 section 8.1 binds the sender
// too).
func TestWriteInvalidUTF8(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		if err := c.Write(ctx, MessageText, []byte("a\xed\xa0\x80")); !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("Write = %v, want ErrInvalidUTF8", err)
		}
		w, err := c.Writer(ctx, MessageText)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("ok \xf4"))
		if _, err := w.Write([]byte("\x90")); !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("Writer.Write = %v, want ErrInvalidUTF8", err)
		}
		w.Close()
		if err := c.Write(ctx, MessageText, []byte("fine")); err != nil {
			t.Fatal(err)
		}
		f, err := p.next()
		if err != nil || f.op != 0x1 || string(f.payload) != "fine" {
			t.Fatalf("first frame sent: op %#x %q %v, want text \"fine\"", f.op, f.payload, err)
		}
	})
}

// TestConcurrentRead checks that a second concurrent reader gets
// ErrConcurrentRead, without a panic, and the first still reads.
func TestConcurrentRead(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		type result struct {
			data []byte
			err  error
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				_, data, err := c.Read(ctx)
				results <- result{data, err}
			}()
		}
		first := <-results // the loser returns at once
		if !errors.Is(first.err, ErrConcurrentRead) {
			t.Fatalf("first result %q, %v; want ErrConcurrentRead", first.data, first.err)
		}
		p.send(rawFrame{fin: true, op: 0x1, payload: []byte("to the winner")})
		if second := <-results; second.err != nil || string(second.data) != "to the winner" {
			t.Fatalf("second result %q, %v", second.data, second.err)
		}
	})
}

// TestReadContextEndsBetweenMessages checks that a read whose context ends
// while it waits for a message returns the context's error and leaves the
// connection open: the next read gets the next message, and writes work.
// It covers a context that ends during the wait, one canceled from
// another goroutine, and one that had ended before the call.
func TestReadContextEndsBetweenMessages(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		contexts := []struct {
			name string
			ctx  func() (context.Context, context.CancelFunc)
			want error
		}{
			{"deadline", func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			}, context.DeadlineExceeded},
			{"cancel", func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, cancel
			}, context.Canceled},
			{"ended before", func() (context.Context, context.CancelFunc) { return canceled, func() {} }, context.Canceled},
		}
		for i, x := range contexts {
			ctx, cancel := x.ctx()
			_, _, err := c.Read(ctx)
			cancel()
			if !errors.Is(err, x.want) {
				t.Fatalf("%s: Read = %v, want %v in the chain", x.name, err, x.want)
			}
			msg := fmt.Sprintf("message %d", i)
			go p.send(rawFrame{fin: true, op: 0x1, payload: []byte(msg)}) // net.Pipe waits for the reader
			if _, got, err := c.Read(dialCtx(t)); err != nil || string(got) != msg {
				t.Fatalf("%s: next Read = %q, %v; want %q", x.name, got, err, msg)
			}
			if err := c.Write(dialCtx(t), MessageText, []byte(msg)); err != nil {
				t.Fatalf("%s: Write: %v", x.name, err)
			}
			if f, err := p.next(); err != nil || string(f.payload) != msg {
				t.Fatalf("%s: peer got %q, %v", x.name, f.payload, err)
			}
		}
	})
}

// TestReadContextEndsMidMessage checks that a read whose context ends
// partway through a message closes the connection, since the part read
// cannot be given back: within a frame's payload and between two
// fragments, with Read and with Reader's reader.
func TestReadContextEndsMidMessage(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	cuts := map[string]func(mask bool) []byte{
		"payload": func(mask bool) []byte {
			b := encodeFrame(rawFrame{fin: true, op: 0x2, payload: make([]byte, 100)}, mask, key)
			return b[:len(b)-50]
		},
		"fragments": func(mask bool) []byte {
			return encodeFrame(rawFrame{op: 0x2, payload: make([]byte, 100)}, mask, key)
		},
	}
	for name, cut := range cuts {
		for _, reader := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reader=%v", name, reader), func(t *testing.T) {
				forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
					c, p := newPair(t, r, tr)
					go p.write(cut(p.mask)) // net.Pipe waits for the reader
					ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
					defer cancel()
					var err error
					if reader {
						var rd io.Reader
						if _, rd, err = c.Reader(ctx); err == nil {
							_, err = io.ReadAll(rd)
						}
					} else {
						_, _, err = c.Read(ctx)
					}
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("read = %v, want context.DeadlineExceeded in the chain", err)
					}
					p.expectEOF()
					if err := c.Write(dialCtx(t), MessageText, []byte("x")); err == nil {
						t.Fatal("Write succeeded on a connection closed mid-message")
					}
				})
			})
		}
	}
}

// TestEndedContextsLeaveConnOpen checks that contexts that end after their
// Read or Write returned (the usual WithTimeout and defer cancel) never
// close the connection, even when the next call is already running.
func TestEndedContextsLeaveConnOpen(t *testing.T) {
	const n = 300
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		go func() {
			for i := range n {
				p.send(rawFrame{fin: true, op: 0x2, payload: []byte{byte(i)}})
			}
		}()
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			_, data, err := c.Read(ctx)
			cancel()
			if err != nil || len(data) != 1 || data[0] != byte(i) {
				t.Fatalf("Read %d: %x %v", i, data, err)
			}
			ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
			err = c.Write(ctx, MessageBinary, data)
			cancel()
			if err != nil {
				t.Fatalf("Write %d: %v", i, err)
			}
		}
		for i := range n {
			if f, err := p.next(); err != nil || f.op != 0x2 || f.payload[0] != byte(i) {
				t.Fatalf("echo %d: op %#x %v", i, f.op, err)
			}
		}
	})
}

// TestPingRoundTrip checks that Ping waits for the pong carrying its own
// payload (RFC 6455 section 5.5.3), ignoring others, and returns the round
// trip time.
func TestPingRoundTrip(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		readInBackground(c)
		type result struct {
			rtt time.Duration
			err error
		}
		done := make(chan result, 1)
		go func() {
			rtt, err := c.Ping(dialCtx(t))
			done <- result{rtt, err}
		}()
		f, err := p.next()
		if err != nil || f.op != 0x9 || len(f.payload) > 125 {
			t.Fatalf("want a ping, got op %#x (%d bytes) %v", f.op, len(f.payload), err)
		}
		p.send(rawFrame{fin: true, op: 0xA, payload: append([]byte("not "), f.payload...)})
		select {
		case res := <-done:
			t.Fatalf("Ping returned %v, %v on another pong", res.rtt, res.err)
		case <-time.After(50 * time.Millisecond):
		}
		p.send(rawFrame{fin: true, op: 0xA, payload: f.payload})
		select {
		case res := <-done:
			if res.err != nil || res.rtt <= 0 {
				t.Fatalf("Ping = %v, %v", res.rtt, res.err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Ping did not return after its pong")
		}
	})
}

// TestPingAnsweredByLaterPong checks that concurrent Pings all return when
// the peer answers only the last ping it received, as RFC 6455 section
// 5.5.3 lets it: that pong answers the earlier pings too.
func TestPingAnsweredByLaterPong(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		readInBackground(c)
		const n = 4
		done := make(chan error, n)
		for range n {
			go func() {
				_, err := c.Ping(dialCtx(t))
				done <- err
			}()
		}
		var last rawFrame
		for range n {
			f, err := p.next()
			if err != nil || f.op != 0x9 {
				t.Fatalf("want a ping, got op %#x, %v", f.op, err)
			}
			last = f
		}
		p.send(rawFrame{fin: true, op: 0xA, payload: last.payload})
		for range n {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("a Ping still waits though the pong to a later ping came")
			}
		}
	})
}

// TestClientMaskingKeys checks that a client masks every frame with a new
// key (RFC 6455 section 5.3: unpredictable, fresh for each frame).
func TestClientMaskingKeys(t *testing.T) {
	c, p := newPair(t, clientRole, pipeTransport)
	ctx := dialCtx(t)
	const n = 64
	go func() {
		for i := range n {
			c.Write(ctx, MessageBinary, []byte{byte(i)})
		}
	}()
	keys := map[[4]byte]bool{}
	for range n {
		f, err := p.next()
		if err != nil {
			t.Fatal(err)
		}
		keys[f.key] = true
	}
	if len(keys) < n-1 {
		t.Fatalf("%d frames used only %d distinct masking keys", n, len(keys))
	}
}

// TestControlPayloadLimit checks that the Starling side refuses to send a
// control frame over 125 bytes (RFC 6455 section 5.5) and sends exactly
// 125.
func TestControlPayloadLimit(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		if err := c.WritePing(ctx, make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("WritePing of 126 bytes = %v, want ErrControlTooLong", err)
		}
		if err := c.WritePong(ctx, make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("WritePong of 126 bytes = %v, want ErrControlTooLong", err)
		}
		want := randomBytes(125, 125)
		if err := c.WritePing(ctx, want); err != nil {
			t.Fatal(err)
		}
		if f, err := p.next(); err != nil || f.op != 0x9 || !f.fin || !bytes.Equal(f.payload, want) {
			t.Fatalf("got op %#x fin %v %d bytes, %v; want the 125-byte ping", f.op, f.fin, len(f.payload), err)
		}
	})
}

// TestOnPing checks that the OnPing and OnPong callbacks see each control
// frame's payload, and that pings are answered all the same.
func TestOnPing(t *testing.T) {
	pings, pongs := make(chan string, 1), make(chan string, 1)
	s := newAcceptServer(t, &AcceptOptions{
		OnPing: func(p []byte) { pings <- string(p) },
		OnPong: func(p []byte) { pongs <- string(p) },
	}, nil)
	resp, _, nc, br := rawRequest(t, s.Listener.Addr().String(), handshakeRequest("GET / HTTP/1.1"))
	if resp.StatusCode != 101 {
		t.Fatal(resp.Status)
	}
	c := s.result(t).c
	readInBackground(c)
	key := [4]byte{1, 2, 3, 4}
	nc.Write(encodeFrame(rawFrame{fin: true, op: 0x9, payload: []byte("are you there")}, true, key))
	nc.Write(encodeFrame(rawFrame{fin: true, op: 0xA, payload: []byte("heartbeat")}, true, key))
	for ch, want := range map[chan string]string{pings: "are you there", pongs: "heartbeat"} {
		select {
		case got := <-ch:
			if got != want {
				t.Errorf("callback saw %q, want %q", got, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("callback for %q not called", want)
		}
	}
	if f, err := readRawFrame(br); err != nil || f.op != 0xA || string(f.payload) != "are you there" {
		t.Fatalf("answer op %#x %q %v, want the pong", f.op, f.payload, err)
	}
}

// TestWriterAbortMidMessage checks that a streamed text message that turns
// out not to be UTF-8 after a fragment has left cannot be finished, so the
// connection is closed with 1011 rather than leaving the peer mid-message.
func TestWriterAbortMidMessage(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		w, err := c.Writer(ctx, MessageText)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("a"), 100<<10)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("\xc0\xaf")); !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("Write = %v, want ErrInvalidUTF8", err)
		}
		if err := w.Close(); !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("Close = %v, want ErrInvalidUTF8", err)
		}
		for op := byte(0x1); ; op = 0x0 {
			f, err := p.next()
			if err != nil {
				t.Fatal(err)
			}
			if f.op == 0x8 {
				if code, _ := decodeClose(t, f.payload); code != StatusInternalError {
					t.Fatalf("closed with %v, want 1011", code)
				}
				break
			}
			if f.op != op || f.fin {
				t.Fatalf("got op %#x fin %v, want op %#x unfinished", f.op, f.fin, op)
			}
		}
		p.nc.Close()
		if err := c.Write(ctx, MessageText, []byte("x")); err == nil {
			t.Fatal("Write succeeded after the aborted message closed the connection")
		}
	})
}

// TestWriterClosedTwice checks that closing a Writer again, after another
// Writer has begun, does nothing: the later message is neither ended early
// nor cut, as with a deferred Close after an explicit one.
func TestWriterClosedTwice(t *testing.T) {
	c, p := newPair(t, serverRole, pipeTransport)
	ctx := dialCtx(t)
	first, err := c.Writer(ctx, MessageText)
	if err != nil {
		t.Fatal(err)
	}
	first.Write([]byte("first"))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := c.Writer(ctx, MessageText)
	if err != nil {
		t.Fatal(err)
	}
	second.Write([]byte("second, "))
	if err := first.Close(); err != nil {
		t.Fatalf("closing the first writer again: %v", err)
	}
	if _, err := second.Write([]byte("whole")); err != nil {
		t.Fatalf("the second writer after the first's second Close: %v", err)
	}
	go second.Close()
	for _, want := range []string{"first", "second, whole"} {
		var got []byte
		for {
			f, err := p.next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, f.payload...)
			if f.fin {
				break
			}
		}
		if string(got) != want {
			t.Fatalf("message %q, want %q", got, want)
		}
	}
}

// TestCloseNowUnblocksWrite checks that CloseNow ends a Write blocked on a
// peer that does not read.
func TestCloseNowUnblocksWrite(t *testing.T) {
	peer, local := net.Pipe() // nothing reads peer
	defer peer.Close()
	c := newConn(connConfig{rwc: local})
	done := make(chan error, 1)
	go func() { done <- c.Write(context.Background(), MessageBinary, make([]byte, 1<<20)) }()
	time.Sleep(20 * time.Millisecond)
	c.CloseNow()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Write succeeded")
		}
	case <-time.After(testTimeout):
		t.Fatal("Write still blocked after CloseNow")
	}
}

// TestAfterFailure checks that once the connection failed, every later
// Read and Write reports the same end.
func TestAfterFailure(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		p.send(rawFrame{fin: true, op: 0x3})
		p.expectClose(StatusProtocolError)
		in.wait(t)
		ctx := dialCtx(t)
		if _, _, err := c.Read(ctx); CloseStatus(err) != StatusProtocolError {
			t.Errorf("Read after failure: %v, want status 1002", err)
		}
		if err := c.Write(ctx, MessageText, []byte("x")); CloseStatus(err) != StatusProtocolError {
			t.Errorf("Write after failure: %v, want status 1002", err)
		}
		if _, err := c.Ping(ctx); err == nil {
			t.Error("Ping after failure succeeded")
		}
		if err := c.Close(StatusNormalClosure, ""); err == nil {
			t.Error("Close after failure returned nil")
		}
	})
}
