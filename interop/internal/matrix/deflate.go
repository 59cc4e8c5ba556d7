package matrix

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// deflateModes are the permessage-deflate settings the deflate cells try
// on Starling's side, named for the subtests.
var deflateModes = []struct {
	name string
	opts starling.CompressionOptions
}{
	{"context-takeover", starling.CompressionOptions{Mode: starling.CompressionContextTakeover}},
	// Takeover through a 4 KiB history (CompressionOptions.History): the
	// peer's decompressor must follow references into earlier messages
	// exactly as with a kept writer.
	{"context-takeover-history", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, History: 4 << 10}},
	{"no-context-takeover", starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover}},
}

// Sizes of the wire checks: a message that compresses well, and a run of
// identical incompressible messages that only context takeover shrinks
// (RFC 7692 section 7.1.1). repeatSize is above ws's compression threshold
// (1 KiB) and well inside a 12-bit window (4 KiB, less zlib's 262-byte
// lookahead), which python-websockets' server asks for.
const (
	compressibleSize = 1 << 20
	repeatSize       = 1200
	repeatCount      = 50
)

func runDeflateCells(t *testing.T, e *env) {
	e.cell(t, "deflate/off", e.deflateOff)
	if !e.caps.Deflate {
		return
	}
	for _, m := range deflateModes {
		comp := m.opts
		e.cell(t, "deflate/"+m.name+"/negotiation", func(t *testing.T, ctx context.Context) {
			e.deflateNegotiation(t, ctx, comp)
		})
		e.cell(t, "deflate/"+m.name+"/messages", func(t *testing.T, ctx context.Context) {
			e.deflateMessages(t, ctx, comp)
		})
		if e.caps.SendsFragments {
			e.cell(t, "deflate/"+m.name+"/fragments/peer-sends", func(t *testing.T, ctx context.Context) {
				e.deflatePeerFragments(t, ctx, comp)
			})
		}
		e.cell(t, "deflate/"+m.name+"/wire", func(t *testing.T, ctx context.Context) {
			e.deflateWire(t, ctx, comp)
		})
	}
}

// negotiated returns the Sec-WebSocket-Extensions of the server's answer:
// Starling's Dial returns it; a peer client reports it.
func (e *env) negotiated(t *testing.T, ctx context.Context, s *side) string {
	t.Helper()
	if e.dir == starlingClient {
		return s.extensions
	}
	ev, err := e.peer.Wait(ctx, s.id, peer.EventOpen)
	if err != nil {
		t.Fatalf("peer open event: %v", err)
	}
	return ev.Extensions
}

// deflateParams is what a permessage-deflate answer says.
type deflateParams struct {
	on                                 bool
	serverNoTakeover, clientNoTakeover bool
	serverWindow, clientWindow         int // max_window_bits; 15 if absent
}

func parseDeflate(h string) deflateParams {
	p := deflateParams{serverWindow: 15, clientWindow: 15}
	for _, part := range strings.Split(h, ";") {
		name, value, _ := strings.Cut(strings.ToLower(strings.TrimSpace(part)), "=")
		bits, err := strconv.Atoi(strings.Trim(value, `"`))
		switch name {
		case "server_max_window_bits":
			if err == nil {
				p.serverWindow = bits
			}
		case "client_max_window_bits":
			if err == nil {
				p.clientWindow = bits
			}
		}
		switch name {
		case "permessage-deflate":
			p.on = true
		case "server_no_context_takeover":
			p.serverNoTakeover = true
		case "client_no_context_takeover":
			p.clientNoTakeover = true
		}
	}
	return p
}

// deflateOff: with compression disabled on Starling's side (the default),
// no extension is agreed although the peer supports one, and a
// compressible message crosses the wire at full size both ways.
func (e *env) deflateOff(t *testing.T, ctx context.Context) {
	s := e.open(t, ctx, peer.ModeEcho)
	defer s.conn.CloseNow()
	if h := e.negotiated(t, ctx, s); h != "" {
		t.Errorf("Sec-WebSocket-Extensions %q with compression disabled, want none", h)
	}
	read, written := e.echoCounted(t, ctx, s, starling.MessageText, payload(starling.MessageText, compressibleSize))
	if read < compressibleSize || written < compressibleSize {
		t.Errorf("uncompressed %d-byte echo: %d bytes read, %d written on the wire; want at least the message size", compressibleSize, read, written)
	}
	e.finish(t, ctx, s)
}

// deflateNegotiation: the agreed parameters are what Starling asked for,
// or, for a peer that only supports no context takeover, what it forces.
func (e *env) deflateNegotiation(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	s := e.openWith(t, ctx, peer.ModeEcho, comp)
	defer s.conn.CloseNow()
	h := e.negotiated(t, ctx, s)
	t.Logf("agreed: Sec-WebSocket-Extensions: %s", h)
	p := parseDeflate(h)
	noTakeover := comp.Mode == starling.CompressionNoContextTakeover || e.caps.DeflateNoTakeoverOnly
	if !p.on || p.serverNoTakeover != noTakeover || p.clientNoTakeover != noTakeover {
		t.Errorf("Sec-WebSocket-Extensions %q; want permessage-deflate with no_context_takeover for both sides %v", h, noTakeover)
	}
	e.finish(t, ctx, s)
}

// deflateMessages: on a compressed connection, messages of every size up
// to 1 MiB, multi-byte text and a message streamed through Writer come
// back byte for byte. (16 MiB is left to the uncompressed cells.)
func (e *env) deflateMessages(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	s := e.openWith(t, ctx, peer.ModeEcho, comp)
	defer s.conn.CloseNow()
	for _, typ := range []starling.MessageType{starling.MessageText, starling.MessageBinary} {
		for _, n := range Sizes {
			if n <= compressibleSize {
				roundTrip(t, ctx, s, typ, payload(typ, n))
			}
		}
	}
	roundTrip(t, ctx, s, starling.MessageText, []byte("héllo wörld — Ελληνικά, 日本語, emoji 🌍🎉"))
	want := payload(starling.MessageText, 100_003)
	w, err := s.conn.Writer(ctx, starling.MessageText)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	for p := want; len(p) > 0; {
		k := min(len(p), 1001)
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing Writer: %v", err)
	}
	expectMessage(t, ctx, s, starling.MessageText, want)
	e.finish(t, ctx, s)
}

// deflatePeerFragments: fragmented messages the peer compresses arrive whole.
func (e *env) deflatePeerFragments(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	s := e.openWith(t, ctx, peer.ModeFragments, comp)
	defer s.conn.CloseNow()
	expectMessage(t, ctx, s, starling.MessageText, []byte(peer.FragmentedText))
	expectMessage(t, ctx, s, starling.MessageBinary, peer.FragmentedBinaryJoined)
	e.finish(t, ctx, s)
}

// deflateWire: both sides really compress (a 1 MiB compressible message
// takes under a quarter of its size on the wire each way), and each side
// keeps its context exactly where the agreement lets it: a run of
// identical incompressible messages is tiny on the wire with context
// takeover and full size without.
func (e *env) deflateWire(t *testing.T, ctx context.Context, comp starling.CompressionOptions) {
	s := e.openWith(t, ctx, peer.ModeEcho, comp)
	defer s.conn.CloseNow()
	e.checkWire(t, ctx, s, parseDeflate(e.negotiated(t, ctx, s)))
	e.finish(t, ctx, s)
}

// checkWire is deflateWire on an open connection that agreed p.
func (e *env) checkWire(t *testing.T, ctx context.Context, s *side, p deflateParams) {
	t.Helper()
	if !p.on {
		t.Fatal("permessage-deflate not agreed")
	}
	read, written := e.echoCounted(t, ctx, s, starling.MessageText, payload(starling.MessageText, compressibleSize))
	if read > compressibleSize/4 || written > compressibleSize/4 {
		t.Errorf("compressed %d-byte echo: %d bytes read, %d written on the wire; want under a quarter", compressibleSize, read, written)
	}

	// Which side may keep its context: the server's compressor unless
	// server_no_context_takeover, the client's unless client_no_context_takeover.
	starlingNoTakeover, peerNoTakeover := p.clientNoTakeover, p.serverNoTakeover
	starlingWindow := p.clientWindow
	if e.dir == starlingServer {
		starlingNoTakeover, peerNoTakeover = peerNoTakeover, starlingNoTakeover
		starlingWindow = p.serverWindow
	}
	msg := payload(starling.MessageBinary, repeatSize)
	r0, w0 := s.wire.snapshot()
	for range repeatCount {
		roundTrip(t, ctx, s, starling.MessageBinary, msg)
	}
	r1, w1 := s.wire.snapshot()
	if 1<<starlingWindow <= repeatSize && !starlingNoTakeover {
		// The previous message lies beyond a window this small, so its
		// context cannot shrink the next one. Only the echo's
		// correctness is checked.
		t.Logf("Starling: window of %d bits agreed; %d identical %d-byte messages took %d bytes on the wire", starlingWindow, repeatCount, repeatSize, w1-w0)
	} else {
		checkRun(t, "Starling", w1-w0, starlingNoTakeover)
	}
	checkRun(t, e.peer.Name(), r1-r0, peerNoTakeover)
}

// checkRun checks the wire size of a sender's run of repeatCount identical
// messages against whether it had to compress each on its own.
func checkRun(t *testing.T, who string, n int64, noTakeover bool) {
	t.Helper()
	const total = repeatSize * repeatCount
	switch {
	case noTakeover && n < total:
		t.Errorf("%s sent %d identical %d-byte messages in %d bytes under no_context_takeover: it kept its context", who, repeatCount, repeatSize, n)
	case !noTakeover && n > total/2:
		t.Errorf("%s sent %d identical %d-byte messages in %d bytes with context takeover agreed: it did not use its context", who, repeatCount, repeatSize, n)
	}
	t.Logf("%s: %d identical %d-byte messages took %d bytes on the wire (no_context_takeover %v)", who, repeatCount, repeatSize, n, noTakeover)
}

// echoCounted round-trips msg and returns the bytes read and written on
// the wire meanwhile.
func (e *env) echoCounted(t *testing.T, ctx context.Context, s *side, typ starling.MessageType, msg []byte) (read, written int64) {
	t.Helper()
	r0, w0 := s.wire.snapshot()
	roundTrip(t, ctx, s, typ, msg)
	r1, w1 := s.wire.snapshot()
	return r1 - r0, w1 - w0
}
