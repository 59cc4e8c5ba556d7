package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// Modes of the Node and Python peers that only the edge cells use; see
// RunEdges.
const (
	modeBlast    = "blast"    // send count binary messages of size bytes (blastMessage), then echo
	modeFragPing = "fragping" // send FragmentedText as two frames with a ping "mid-message" between them, then echo
	modePong     = "pong"     // send an unsolicited pong "unsolicited", then echo
	// modeSink reads messages and sends none back, so that a close
	// handshake does not wait behind the echo of a large message, which
	// Python takes seconds to compress.
	modeSink = "sink"
)

// RunEdges runs the edge cells against a Node or Python peer, which read
// parameters from the query of the connection's URL (code, reason and
// payload for the close and ping modes, count and size for blast), in
// both directions: close reasons at the 123-byte limit in ASCII and
// multi-byte UTF-8 both ways, a close while a large message is still
// arriving or still being written, both sides closing at once, 125-byte
// pings both ways, a ping between the frames of a message both ways, and
// both sides writing 16 MiB, or thousands of small messages, at once.
func RunEdges(t *testing.T, p peer.Peer, opts Options) {
	t.Run("starling-server", func(t *testing.T) {
		srv := newServer(opts)
		defer srv.close()
		runEdgeCells(t, &env{peer: p, dir: starlingServer, srv: srv})
	})
	t.Run("starling-client", func(t *testing.T) {
		runEdgeCells(t, &env{peer: p, dir: starlingClient, tls: opts.ClientTLS})
	})
}

// reasons are close reasons of exactly 123 bytes (RFC 6455 section 5.5:
// a control payload of 125 bytes, less the code), in runes of 1 to 4
// bytes, and the empty reason.
var reasons = map[string]string{
	"ascii-123": strings.Repeat("r", 123),
	"2byte-123": strings.Repeat("é", 61) + "!",
	"3byte-123": strings.Repeat("€", 41),
	"4byte-123": strings.Repeat("😀", 30) + "abc",
	"empty":     "",
}

func runEdgeCells(t *testing.T, e *env) {
	for name, reason := range reasons {
		e.cell(t, "close/starling-reason/"+name, func(t *testing.T, ctx context.Context) {
			e.starlingReason(t, ctx, reason)
		})
		e.cell(t, "close/peer-reason/"+name, func(t *testing.T, ctx context.Context) {
			e.peerReason(t, ctx, reason)
		})
	}
	e.cell(t, "close/during-large-write/deflate", e.closeDuringWrite)
	e.cell(t, "close/reason-too-long", e.reasonTooLong)
	e.cell(t, "close/simultaneous", e.simultaneousClose)
	for _, c := range edgeCompression {
		e.cell(t, "close/during-large-incoming/"+c.name, func(t *testing.T, ctx context.Context) {
			e.closeDuringIncoming(t, ctx, c.opts)
		})
		e.cell(t, "close/during-large-outgoing/"+c.name, func(t *testing.T, ctx context.Context) {
			e.closeDuringOutgoing(t, ctx, c.opts)
		})
		e.cell(t, "duplex/16MiB/"+c.name, func(t *testing.T, ctx context.Context) { e.duplex(t, ctx, c.opts, 1, 16<<20) })
		e.cell(t, "duplex/3000x10B/"+c.name, func(t *testing.T, ctx context.Context) { e.duplex(t, ctx, c.opts, 3000, 10) })
	}
	e.cell(t, "ping/starling-125", e.starlingPing125)
	e.cell(t, "ping/peer-125", e.peerPing125)
	e.cell(t, "ping/peer-mid-message", e.peerPingMidMessage)
	e.cell(t, "ping/starling-mid-message", e.starlingPingMidMessage)
	e.cell(t, "ping/unsolicited-pong", e.unsolicitedPong)
}

// edgeCompression are the settings the close and duplex cells run with:
// without compression, and with it on both sides (context takeover,
// every message compressed), where a message cut short by a close also
// leaves a decompressor or compressor mid-stream.
var edgeCompression = []struct {
	name string
	opts starling.CompressionOptions
}{
	{"plain", starling.CompressionOptions{}},
	{"deflate", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1}},
}

// query encodes name=value pairs for a peer's URL.
func query(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// starlingReason: the peer sees Starling's close code and reason exactly.
func (e *env) starlingReason(t *testing.T, ctx context.Context, reason string) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if err := s.conn.Close(4002, reason); err != nil {
		t.Errorf("Close(4002, %d-byte reason): %v", len(reason), err)
	}
	e.expectClose(t, ctx, s, 4002, reason)
}

// peerReason: Starling's Read reports the peer's close code and reason
// exactly, and the peer sees its code echoed.
func (e *env) peerReason(t *testing.T, ctx context.Context, reason string) {
	s := e.openQuery(t, ctx, peer.ModeClose, starling.CompressionOptions{}, query("code", "4002", "reason", reason))
	defer s.conn.CloseNow()
	_, _, err := s.conn.Read(ctx)
	var ce *starling.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("Read returned %v, want a *CloseError", err)
	}
	if ce.Code != 4002 || ce.Reason != reason {
		t.Errorf("Starling saw close %d %q, want 4002 %q", ce.Code, ce.Reason, reason)
	}
	e.expectClose(t, ctx, s, 4002, "")
}

// reasonTooLong: a 124-byte reason is refused with ErrControlTooLong, and
// the connection goes on.
func (e *env) reasonTooLong(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if err := s.conn.Close(4002, strings.Repeat("r", 124)); !errors.Is(err, starling.ErrControlTooLong) {
		t.Errorf("Close with a 124-byte reason: %v, want ErrControlTooLong", err)
	}
	roundTrip(t, ctx, s, starling.MessageText, []byte("still open"))
	e.finish(t, ctx, s)
}

// simultaneousClose: the peer closes as soon as it is open while
// Starling closes without reading. Each side gets the other's close frame
// (RFC 6455 section 7.1.3), so Close returns nil and the peer sees
// Starling's code and reason.
func (e *env) simultaneousClose(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeClose)
	defer s.conn.CloseNow()
	if err := s.conn.Close(4003, "mine"); err != nil {
		t.Errorf("Close(4003, \"mine\"): %v", err)
	}
	e.expectClose(t, ctx, s, 4003, "mine")
}

// closeDuringIncoming: Starling closes after the first of four 4 MiB
// messages, while the others are on their way; Close reads past them to
// the peer's close frame.
func (e *env) closeDuringIncoming(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	const size = 4 << 20
	s := e.openQuery(t, ctx, modeBlast, comp, query("count", "4", "size", strconv.Itoa(size)))
	defer s.conn.CloseNow()
	expectMessage(t, ctx, s, starling.MessageBinary, blastMessage(0, size))
	e.finish(t, ctx, s)
}

// closeDuringOutgoing: Starling closes while another goroutine is still
// streaming a 16 MiB message through Writer, which then ends with an
// error or completes; the close handshake completes either way, and the
// peer sees Starling's close frame (RFC 6455 section 5.4 lets it come
// between the message's frames).
func (e *env) closeDuringOutgoing(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	s := e.openWith(t, ctx, modeSink, comp)
	defer s.conn.CloseNow()
	werr := make(chan error, 1)
	go func() {
		w, err := s.conn.Writer(ctx, starling.MessageBinary)
		if err != nil {
			werr <- err
			return
		}
		chunk := payload(starling.MessageBinary, 64<<10) // incompressible, so fragments leave at once
		for range 256 {
			if _, err = w.Write(chunk); err != nil {
				break
			}
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		werr <- err
	}()
	e.closeWhileWriting(t, ctx, s, werr)
}

// closeDuringWrite is closeDuringOutgoing with one call to Write of a
// compressed message, which leaves as several frames too. (Uncompressed,
// it is one frame, which the close frame waits behind.)
func (e *env) closeDuringWrite(t *testing.T, ctx context.Context) {
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover}
	s := e.openWith(t, ctx, modeSink, comp)
	defer s.conn.CloseNow()
	werr := make(chan error, 1)
	go func() { werr <- s.conn.Write(ctx, starling.MessageBinary, payload(starling.MessageBinary, 16<<20)) }()
	e.closeWhileWriting(t, ctx, s, werr)
}

// closeWhileWriting closes s once the message another goroutine writes
// has begun to leave, and reports how the write ended.
func (e *env) closeWhileWriting(t *testing.T, ctx context.Context, s *side, werr <-chan error) {
	t.Helper()
	for _, w := s.wire.snapshot(); w < 128<<10; _, w = s.wire.snapshot() {
		select {
		case err := <-werr:
			t.Fatalf("the 16 MiB write ended before Close: %v", err)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	e.finish(t, ctx, s)
	t.Logf("the 16 MiB write ended with %v", <-werr)
}

// starlingPing125: a ping of 125 bytes, the most a control frame holds,
// comes back in the pong; one of 126 is refused.
func (e *env) starlingPing125(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	readErr := readInBackground(ctx, s)
	if err := s.conn.WritePing(ctx, []byte(strings.Repeat("p", 126))); !errors.Is(err, starling.ErrControlTooLong) {
		t.Errorf("WritePing of 126 bytes: %v, want ErrControlTooLong", err)
	}
	want := strings.Repeat("é", 62) + "!"
	if err := s.conn.WritePing(ctx, []byte(want)); err != nil {
		t.Fatalf("WritePing: %v", err)
	}
	expectPong(t, ctx, s, readErr, want)
	e.closeWhileReading(t, ctx, s, readErr)
}

func expectPong(t *testing.T, ctx context.Context, s *side, readErr <-chan error, want string) {
	t.Helper()
	select {
	case got := <-s.pongs:
		if string(got) != want {
			t.Errorf("pong payload %q, want %q", got, want)
		}
	case err := <-readErr:
		t.Fatalf("Read ended before the pong: %v", err)
	case <-ctx.Done():
		t.Fatalf("no pong: %v", ctx.Err())
	}
}

// peerPing125: Starling answers a 125-byte ping with the same payload.
func (e *env) peerPing125(t *testing.T, ctx context.Context) {
	want := strings.Repeat("q", 125)
	s := e.openQuery(t, ctx, peer.ModePing, starling.CompressionOptions{}, query("payload", want))
	defer s.conn.CloseNow()
	readErr := readInBackground(ctx, s)
	e.expectPeerPing(t, ctx, s, readErr, want)
	e.closeWhileReading(t, ctx, s, readErr)
}

// expectPeerPing checks that Starling saw the peer's ping with payload
// want and that the peer got the pong.
func (e *env) expectPeerPing(t *testing.T, ctx context.Context, s *side, readErr <-chan error, want string) {
	t.Helper()
	select {
	case got := <-s.pings:
		if string(got) != want {
			t.Errorf("ping payload %q, want %q", got, want)
		}
	case err := <-readErr:
		t.Fatalf("Read ended before the ping: %v", err)
	case <-ctx.Done():
		t.Fatalf("no ping: %v", ctx.Err())
	}
	ev, err := e.peer.Wait(ctx, s.id, peer.EventPong)
	if err != nil {
		t.Fatalf("peer pong event: %v", err)
	}
	if ev.Data != want {
		t.Errorf("peer got pong %q, want %q", ev.Data, want)
	}
}

// peerPingMidMessage: a ping between two frames of the peer's message is
// answered (RFC 6455 section 5.4 allows control frames there), and the
// message arrives whole.
func (e *env) peerPingMidMessage(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, modeFragPing)
	defer s.conn.CloseNow()
	expectMessage(t, ctx, s, starling.MessageText, []byte(peer.FragmentedText))
	readErr := readInBackground(ctx, s)
	e.expectPeerPing(t, ctx, s, readErr, "mid-message")
	e.closeWhileReading(t, ctx, s, readErr)
}

// starlingPingMidMessage: Starling pings between the fragments of a
// message it streams through Writer; the peer answers, and the message
// arrives whole.
func (e *env) starlingPingMidMessage(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	want := payload(starling.MessageText, 100_003)
	w, err := s.conn.Writer(ctx, starling.MessageText)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write(want[:50_000]); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.conn.WritePing(ctx, []byte("mid-message")); err != nil {
		t.Fatalf("WritePing while a Writer is open: %v", err)
	}
	if _, err := w.Write(want[50_000:]); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing Writer: %v", err)
	}
	expectMessage(t, ctx, s, starling.MessageText, want)
	readErr := readInBackground(ctx, s)
	expectPong(t, ctx, s, readErr, "mid-message")
	e.closeWhileReading(t, ctx, s, readErr)
}

// unsolicitedPong: a pong no ping asked for reaches OnPong (RFC 6455
// section 5.5.3), is not answered, and Ping still waits for its own pong.
func (e *env) unsolicitedPong(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, modePong)
	defer s.conn.CloseNow()
	readErr := readInBackground(ctx, s)
	expectPong(t, ctx, s, readErr, "unsolicited")
	if _, err := s.conn.Ping(ctx); err != nil {
		t.Errorf("Ping after an unsolicited pong: %v", err)
	}
	e.closeWhileReading(t, ctx, s, readErr)
}

// duplex: both sides write at once, the peer count binary messages of
// size bytes and Starling as many text ones, which the peer echoes; each
// stream arrives whole and in order.
func (e *env) duplex(t *testing.T, ctx context.Context, comp starling.CompressionOptions, count, size int) {
	s := e.openQuery(t, ctx, modeBlast, comp, query("count", strconv.Itoa(count), "size", strconv.Itoa(size)))
	defer s.conn.CloseNow()
	big := payload(starling.MessageText, max(size, 100))
	text := func(i int) []byte {
		if size < 100 {
			return fmt.Appendf(nil, "text %d", i)
		}
		return big
	}
	werr := make(chan error, 1)
	go func() {
		for i := range count {
			if err := s.conn.Write(ctx, starling.MessageText, text(i)); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	var blasts, echoes int
	for blasts < count || echoes < count {
		typ, got, err := s.conn.Read(ctx)
		if err != nil {
			t.Fatalf("Read after %d blast messages and %d echoes: %v", blasts, echoes, err)
		}
		var want []byte
		if typ == starling.MessageBinary {
			want = blastMessage(blasts, size)
			blasts++
		} else {
			want = text(echoes)
			echoes++
		}
		if d := diff(got, want); d != "" {
			t.Fatalf("%v message (%d blast, %d echoes so far): %s", typ, blasts, echoes, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatalf("Write: %v", err)
	}
	e.finish(t, ctx, s)
}

// blastMessage is message i of the peers' blast mode: byte j is
// (31j + i) mod 256.
func blastMessage(i, size int) []byte {
	b := make([]byte, size)
	for j := range min(size, 256) {
		b[j] = byte(31*j + i)
	}
	// The bytes repeat every 256: copy what is done onto the rest.
	for done := min(size, 256); done < size; done *= 2 {
		copy(b[done:], b[:done])
	}
	return b
}
