package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// cellTimeout bounds one cell. The slowest is the 16 MiB text echo through
// Chromium, which took up to 2 minutes on this 2-core machine while it was
// shared (load average ~13), almost all of it inside the browser.
const cellTimeout = 5 * time.Minute

func runCells(t *testing.T, e *env) {
	for _, typ := range []starling.MessageType{starling.MessageText, starling.MessageBinary} {
		for _, n := range Sizes {
			e.cell(t, fmt.Sprintf("%s/%s", typ, sizeName(n)), func(t *testing.T, ctx context.Context) {
				e.echo(t, ctx, typ, n)
			})
		}
	}
	e.cell(t, "utf8", e.utf8)
	e.cell(t, "sequence-1000", e.sequence)
	e.cell(t, "fragments/starling-sends", e.starlingFragments)
	if e.caps.SendsFragments {
		e.cell(t, "fragments/peer-sends", e.peerFragments)
	}
	e.cell(t, "ping/starling-sends", e.starlingPing)
	if e.caps.SendsPings {
		e.cell(t, "ping/peer-sends", e.peerPing)
	}
	e.cell(t, "subprotocol", e.subprotocol)
	if e.dir == starlingClient || e.caps.CustomHeader || e.caps.Cookie {
		e.cell(t, "header", e.header)
	}
	e.cell(t, "close/starling-initiates", e.starlingCloses)
	e.cell(t, "close/peer-initiates", e.peerCloses)
	if e.caps.DropsTCP {
		e.cell(t, "abnormal/peer-drops", e.peerDrops)
	}
	e.cell(t, "abnormal/starling-drops", e.starlingDrops)
	runDeflateCells(t, e)
}

func (e *env) cell(t *testing.T, name string, f func(*testing.T, context.Context)) {
	t.Run(name, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), cellTimeout)
		defer cancel()
		f(t, ctx)
	})
}

// finish closes s with 1000 "done" and checks that the peer saw exactly that.
func (e *env) finish(t *testing.T, ctx context.Context, s *side) {
	t.Helper()
	if err := s.conn.Close(starling.StatusNormalClosure, "done"); err != nil {
		t.Errorf("Close(1000, \"done\"): %v", err)
	}
	e.expectClose(t, ctx, s, 1000, "done")
}

// expectClose waits for the peer to report the close code and reason it received.
func (e *env) expectClose(t *testing.T, ctx context.Context, s *side, code int, reason string) {
	t.Helper()
	ev, err := e.peer.Wait(ctx, s.id, peer.EventClose)
	if err != nil {
		t.Errorf("peer close event: %v", err)
		return
	}
	if ev.Code != code || ev.Reason != reason {
		t.Errorf("peer saw close %d %q, want %d %q", ev.Code, ev.Reason, code, reason)
	}
}

// roundTrip writes want and reads the peer's echo.
func roundTrip(t *testing.T, ctx context.Context, s *side, typ starling.MessageType, want []byte) {
	t.Helper()
	if err := s.conn.Write(ctx, typ, want); err != nil {
		t.Fatalf("Write %d bytes: %v", len(want), err)
	}
	expectMessage(t, ctx, s, typ, want)
}

func expectMessage(t *testing.T, ctx context.Context, s *side, typ starling.MessageType, want []byte) {
	t.Helper()
	gotTyp, got, err := s.conn.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if gotTyp != typ {
		t.Errorf("message type %v, want %v", gotTyp, typ)
	}
	if d := diff(got, want); d != "" {
		t.Errorf("message of %d bytes: %s", len(want), d)
	}
}

// echo: a message of n bytes comes back byte for byte.
func (e *env) echo(t *testing.T, ctx context.Context, typ starling.MessageType, n int) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	roundTrip(t, ctx, s, typ, payload(typ, n))
	e.finish(t, ctx, s)
}

// utf8: text of multi-byte runes, including a 4-byte one, comes back intact.
func (e *env) utf8(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	roundTrip(t, ctx, s, starling.MessageText, []byte("héllo wörld — Ελληνικά, 日本語, emoji 🌍🎉, combining e\u0301"))
	e.finish(t, ctx, s)
}

// sequence: 1,000 messages written back to back come back in order.
func (e *env) sequence(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	const n = 1000
	werr := make(chan error, 1)
	go func() {
		for i := range n {
			typ := starling.MessageText
			if i%2 == 1 {
				typ = starling.MessageBinary
			}
			if err := s.conn.Write(ctx, typ, fmt.Appendf(nil, "message %d", i)); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for i := range n {
		_, got, err := s.conn.Read(ctx)
		if err != nil {
			t.Fatalf("Read message %d: %v", i, err)
		}
		if want := fmt.Sprintf("message %d", i); string(got) != want {
			t.Fatalf("message %d is %q, want %q", i, got, want)
		}
	}
	if err := <-werr; err != nil {
		t.Fatalf("Write: %v", err)
	}
	e.finish(t, ctx, s)
}

// starlingFragments: messages streamed through Conn.Writer, which sends
// them as frames of at most 32 KiB, are reassembled by the peer. The text
// is written in chunks that split runes, to check Writer's UTF-8
// validation across writes too.
func (e *env) starlingFragments(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	for _, typ := range []starling.MessageType{starling.MessageText, starling.MessageBinary} {
		want := payload(typ, 100_003)
		w, err := s.conn.Writer(ctx, typ)
		if err != nil {
			t.Fatalf("Writer: %v", err)
		}
		for p := want; len(p) > 0; {
			k := min(len(p), 1001)
			if _, err := w.Write(p[:k]); err != nil {
				t.Fatalf("Write to %v Writer: %v", typ, err)
			}
			p = p[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatalf("closing %v Writer: %v", typ, err)
		}
		expectMessage(t, ctx, s, typ, want)
	}
	e.finish(t, ctx, s)
}

// peerFragments: messages the peer sends as several frames arrive whole.
func (e *env) peerFragments(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeFragments)
	defer s.conn.CloseNow()
	expectMessage(t, ctx, s, starling.MessageText, []byte(peer.FragmentedText))
	expectMessage(t, ctx, s, starling.MessageBinary, peer.FragmentedBinaryJoined)
	e.finish(t, ctx, s)
}

// readInBackground keeps a Read running, which Starling needs to answer
// pings and see pongs, and returns its result.
func readInBackground(ctx context.Context, s *side) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := s.conn.Read(ctx); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// starlingPing: the peer answers Starling's ping with a pong carrying the
// same payload, and Ping's round trip completes.
func (e *env) starlingPing(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	readErr := readInBackground(ctx, s)
	want := "starling-ping-" + s.id
	if err := s.conn.WritePing(ctx, []byte(want)); err != nil {
		t.Fatalf("WritePing: %v", err)
	}
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
	if _, err := s.conn.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	e.closeWhileReading(t, ctx, s, readErr)
}

// peerPing: Starling sees the peer's ping payload and answers with a pong
// the peer matches to it.
func (e *env) peerPing(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModePing)
	defer s.conn.CloseNow()
	readErr := readInBackground(ctx, s)
	var seen []byte
	select {
	case seen = <-s.pings:
	case err := <-readErr:
		t.Fatalf("Read ended before the ping: %v", err)
	case <-ctx.Done():
		t.Fatalf("no ping: %v", ctx.Err())
	}
	if e.caps.PingPayload && string(seen) != peer.PingPayload {
		t.Errorf("ping payload %q, want %q", seen, peer.PingPayload)
	}
	ev, err := e.peer.Wait(ctx, s.id, peer.EventPong)
	if err != nil {
		t.Fatalf("peer pong event: %v", err)
	}
	if ev.Data != string(seen) {
		t.Errorf("peer got pong %q for ping %q", ev.Data, seen)
	}
	e.closeWhileReading(t, ctx, s, readErr)
}

// closeWhileReading closes s, whose background Read then ends with the
// peer's echoed 1000.
func (e *env) closeWhileReading(t *testing.T, ctx context.Context, s *side, readErr <-chan error) {
	t.Helper()
	e.finish(t, ctx, s)
	if err := <-readErr; !errors.Is(err, starling.ErrClosed) && starling.CloseStatus(err) != starling.StatusNormalClosure {
		t.Errorf("background Read ended with %v, want the close", err)
	}
}

// subprotocol: both sides agree on peer.Subprotocol, which the client
// offered second.
func (e *env) subprotocol(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if got := s.conn.Subprotocol(); got != peer.Subprotocol {
		t.Errorf("Starling's Subprotocol() = %q, want %q", got, peer.Subprotocol)
	}
	ev, err := e.peer.Wait(ctx, s.id, peer.EventOpen)
	if err != nil {
		t.Fatalf("peer open event: %v", err)
	}
	if ev.Subprotocol != peer.Subprotocol {
		t.Errorf("peer's subprotocol = %q, want %q", ev.Subprotocol, peer.Subprotocol)
	}
	e.finish(t, ctx, s)
}

// header: the client's custom handshake header reaches the server.
// Browsers cannot set headers; for them the cookie the page set must.
func (e *env) header(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	switch {
	case e.dir == starlingClient:
		ev, err := e.peer.Wait(ctx, s.id, peer.EventOpen)
		if err != nil {
			t.Fatalf("peer open event: %v", err)
		}
		if ev.Header != s.id {
			t.Errorf("peer's server saw %s: %q, want %q", peer.HeaderName, ev.Header, s.id)
		}
	case e.caps.Cookie:
		want := CookieName + "=" + s.id
		if got := s.header.Get("Cookie"); !strings.Contains(got, want) {
			t.Errorf("Starling's server saw Cookie: %q, want it to hold %q", got, want)
		}
	default:
		if got := s.header.Get(peer.HeaderName); got != s.id {
			t.Errorf("Starling's server saw %s: %q, want %q", peer.HeaderName, got, s.id)
		}
	}
	e.finish(t, ctx, s)
}

// CookieName is the cookie a browser peer's page sets to the connection
// id before it connects.
const CookieName = "starling_test"

// starlingCloses: the peer sees exactly 4001 "bye", and answers so that
// Close completes.
func (e *env) starlingCloses(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if err := s.conn.Close(peer.CloseCode, peer.CloseReason); err != nil {
		t.Errorf("Close(4001, \"bye\"): %v", err)
	}
	e.expectClose(t, ctx, s, peer.CloseCode, peer.CloseReason)
}

// peerCloses: Starling's Read reports exactly the peer's 4001 "bye", and
// Starling echoes the code (RFC 6455 section 5.5.1) without a reason.
func (e *env) peerCloses(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeClose)
	defer s.conn.CloseNow()
	_, _, err := s.conn.Read(ctx)
	var ce *starling.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("Read returned %v, want a *CloseError", err)
	}
	if ce.Code != peer.CloseCode || ce.Reason != peer.CloseReason {
		t.Errorf("Starling saw close %d %q, want %d %q", ce.Code, ce.Reason, peer.CloseCode, peer.CloseReason)
	}
	e.expectClose(t, ctx, s, peer.CloseCode, "")
}

// peerDrops: a TCP connection dropped without a close frame is reported
// as 1006 by Starling.
func (e *env) peerDrops(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeDrop)
	defer s.conn.CloseNow()
	_, _, err := s.conn.Read(ctx)
	if got := starling.CloseStatus(err); got != starling.StatusAbnormalClosure {
		t.Errorf("Read returned %v, CloseStatus %d, want 1006", err, got)
	}
}

// starlingDrops: the peer reports 1006 when Starling drops the TCP
// connection without a close frame.
func (e *env) starlingDrops(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if _, err := e.peer.Wait(ctx, s.id, peer.EventOpen); err != nil {
		t.Fatalf("peer open event: %v", err)
	}
	if err := s.conn.CloseNow(); err != nil {
		t.Errorf("CloseNow: %v", err)
	}
	ev, err := e.peer.Wait(ctx, s.id, peer.EventClose)
	if err != nil {
		t.Fatalf("peer close event: %v", err)
	}
	if ev.Code != 1006 {
		t.Errorf("peer saw close %d %q, want 1006", ev.Code, ev.Reason)
	}
}
