package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// DeflatePeer says how far a peer's permessage-deflate can be configured
// per connection through peer.DeflateParam.
type DeflatePeer struct {
	// MinWindowBits is the smallest window the peer's compressor can be
	// held to. zlib refuses an 8-bit raw deflate window: Python's zlib
	// raises an error, while Node quietly compresses with 9 bits.
	MinWindowBits int
}

// RunDeflateParams runs the permessage-deflate parameter cells against a
// peer that reads peer.DeflateParam, in both directions over ws: every
// window size on each side, no context takeover asked by either side,
// offers the other side must narrow or decline, and long runs of messages
// of mixed size and compressibility, some sent uncompressed, echoed
// whole and as fragments.
func RunDeflateParams(t *testing.T, p peer.Peer, dp DeflatePeer) {
	t.Run("starling-server", func(t *testing.T) {
		srv := newServer(Options{})
		defer srv.close()
		runParamCells(t, &env{peer: p, dir: starlingServer, srv: srv}, dp)
	})
	t.Run("starling-client", func(t *testing.T) {
		runParamCells(t, &env{peer: p, dir: starlingClient}, dp)
	})
}

func runParamCells(t *testing.T, e *env, dp DeflatePeer) {
	for bits := 8; bits <= 15; bits++ {
		e.cell(t, fmt.Sprintf("window/%d", bits), func(t *testing.T, ctx context.Context) {
			e.windowCell(t, ctx, bits, max(bits, dp.MinWindowBits))
		})
	}
	for _, nct := range []string{"server_no_context_takeover", "client_no_context_takeover", "both"} {
		e.cell(t, "peer-asks/"+nct, func(t *testing.T, ctx context.Context) {
			e.peerAsksNoTakeover(t, ctx, nct)
		})
	}
	e.cell(t, "narrow/window", e.narrowWindow)
	e.cell(t, "decline/peer-off", e.peerOff)
	for _, c := range mixedConfigs {
		for _, v := range mixedVariants {
			e.cell(t, "mixed/"+c.name+"/"+v.name, func(t *testing.T, ctx context.Context) {
				s := e.openQuery(t, ctx, v.mode, c.opts, deflateQuery(v.spec))
				defer s.conn.CloseNow()
				if !parseDeflate(e.negotiated(t, ctx, s)).on {
					t.Fatal("permessage-deflate not agreed")
				}
				mixedRun(t, ctx, s, 100)
				e.finish(t, ctx, s)
			})
		}
	}
}

// mixedVariants are how the peer takes part in the mixed runs: echoing
// each message whole, compressing every message or with its library's
// defaults (ws leaves messages under 1 KiB uncompressed), or echoing it
// as three frames of one compressed message.
var mixedVariants = []struct {
	name, mode string
	spec       map[string]any
}{
	{"echo/threshold-0", peer.ModeEcho, map[string]any{"threshold": 0}},
	{"echo/peer-default", peer.ModeEcho, nil},
	{"fragecho/threshold-0", peer.ModeFragEcho, map[string]any{"threshold": 0}},
}

// mixedConfigs are Starling's settings for the mixed runs: each of its
// compressor's paths (internal/deflate at flate.BestSpeed, compress/flate
// at the other levels, with and without a limited history, and pooled
// without context takeover). The window cells cover small windows.
var mixedConfigs = []struct {
	name string
	opts starling.CompressionOptions
}{
	{"takeover", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1}},
	{"no-takeover", starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover}},
	{"history-4KiB", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, History: 4 << 10}},
	{"level-6", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Level: 6}},
	{"level-6-history-3000", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Level: 6, History: 3000}},
	{"level-9-no-takeover", starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover, Level: 9, Threshold: -1}},
	{"huffman-only", starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Level: -2}},
}

// deflateQuery returns the query that gives the peer spec as its
// permessage-deflate options; "" for nil, the library's defaults.
func deflateQuery(spec map[string]any) string {
	if spec == nil {
		return ""
	}
	b, err := json.Marshal(spec)
	if err != nil {
		panic(err) // maps of strings, numbers and booleans always marshal
	}
	return peer.DeflateParam + "=" + url.QueryEscape(string(b))
}

// deflateOff is the query that turns the peer's compression off.
const deflateOff = peer.DeflateParam + "=false"

// ownWindow and peerWindow return the window bits of Starling's and the
// peer's compressor in an agreement.
func (e *env) ownWindow(p deflateParams) int {
	if e.dir == starlingServer {
		return p.serverWindow
	}
	return p.clientWindow
}

func (e *env) peerWindow(p deflateParams) int {
	if e.dir == starlingServer {
		return p.clientWindow
	}
	return p.serverWindow
}

// windowCell: Starling compresses with a window of own bits and has the
// peer compress with peerBits (RFC 7692 section 7.1.2). The peer's
// inflater has a window of exactly own bits, so a back-reference of
// Starling's beyond it, into an earlier message, fails the peer's
// decompression; messages repeat blocks at distances around both windows.
func (e *env) windowCell(t *testing.T, ctx context.Context, own, peerBits int) {
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1}
	spec := map[string]any{"threshold": 0}
	if e.dir == starlingServer {
		comp.ServerMaxWindowBits, comp.ClientMaxWindowBits = own, peerBits
		spec["client_max_window_bits"] = true
	} else {
		comp.ClientMaxWindowBits, comp.ServerMaxWindowBits = own, peerBits
	}
	s := e.openQuery(t, ctx, peer.ModeEcho, comp, deflateQuery(spec))
	defer s.conn.CloseNow()
	h := e.negotiated(t, ctx, s)
	t.Logf("agreed: Sec-WebSocket-Extensions: %s", h)
	p := parseDeflate(h)
	if !p.on || e.ownWindow(p) != own || e.peerWindow(p) != peerBits {
		t.Fatalf("agreed %q; want Starling's window %d bits and the peer's %d", h, own, peerBits)
	}
	for _, bits := range []int{own, peerBits} {
		w := 1 << bits
		for _, n := range []int{w - w/8, w - 1, w, w + 1, w + w/8, 3 * w} {
			windowProbe(t, ctx, s, n)
		}
	}
	mixedRun(t, ctx, s, 60)
	e.finish(t, ctx, s)
}

// windowProbe sends a random block of n bytes three times: alone, alone
// again (a copy one message back, at distance n) and twice in one
// message, and checks every echo.
func windowProbe(t *testing.T, ctx context.Context, s *side, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	roundTrip(t, ctx, s, starling.MessageBinary, b)
	roundTrip(t, ctx, s, starling.MessageBinary, b)
	roundTrip(t, ctx, s, starling.MessageBinary, bytes.Repeat(b, 2))
}

// peerAsksNoTakeover: the peer asks for no context takeover on one side
// or both, as a client's offer or a server's answer (RFC 7692 sections
// 7.1.1.1 and 7.1.1.2), while Starling would keep its context: each side
// keeps its context exactly where the agreement lets it.
func (e *env) peerAsksNoTakeover(t *testing.T, ctx context.Context, which string) {
	spec := map[string]any{"threshold": 0}
	if which == "both" {
		spec["server_no_context_takeover"] = true
		spec["client_no_context_takeover"] = true
	} else {
		spec[which] = true
	}
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover}
	s := e.openQuery(t, ctx, peer.ModeEcho, comp, deflateQuery(spec))
	defer s.conn.CloseNow()
	h := e.negotiated(t, ctx, s)
	t.Logf("agreed: Sec-WebSocket-Extensions: %s", h)
	p := parseDeflate(h)
	if (which != "client_no_context_takeover" && !p.serverNoTakeover) || (which != "server_no_context_takeover" && !p.clientNoTakeover) {
		t.Errorf("agreed %q; the peer asked for %s", h, which)
	}
	e.checkWire(t, ctx, s, p)
	mixedRun(t, ctx, s, 60)
	e.finish(t, ctx, s)
}

// narrowWindow: each side's offer of a window is narrowed by the other's
// smaller limit. Starling's server answers the peer's offer of
// server_max_window_bits=10 and client_max_window_bits=9 with at most
// those (RFC 7692 sections 7.1.2.1 and 7.1.2.2); Starling's client asks
// a peer server that allows 12 bits for 10, which the peer must honour or
// decline.
func (e *env) narrowWindow(t *testing.T, ctx context.Context) {
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}
	spec := map[string]any{"threshold": 0, "server_max_window_bits": 10, "client_max_window_bits": 9}
	if e.dir == starlingClient {
		comp = starling.CompressionOptions{Mode: starling.CompressionContextTakeover, ServerMaxWindowBits: 10}
		spec = map[string]any{"threshold": 0, "server_max_window_bits": 12}
	}
	s, err := e.tryOpen(ctx, peer.ModeEcho, comp, deflateQuery(spec))
	if err != nil {
		if e.dir == starlingClient {
			// Declining the only offer by refusing the handshake is the
			// peer's choice (Node's ws answers 400); Starling must report it.
			t.Logf("the peer refused the offer: %v", err)
			return
		}
		t.Fatal(err)
	}
	defer s.conn.CloseNow()
	h := e.negotiated(t, ctx, s)
	t.Logf("agreed: Sec-WebSocket-Extensions: %s", h)
	p := parseDeflate(h)
	switch {
	case e.dir == starlingServer && (!p.on || p.serverWindow != 10 || p.clientWindow != 9):
		t.Errorf("Starling's server answered %q; want server_max_window_bits=10, client_max_window_bits=9", h)
	case e.dir == starlingClient && p.on && p.serverWindow > 10:
		t.Errorf("agreed %q; Starling asked for server_max_window_bits=10", h)
	}
	mixedRun(t, ctx, s, 60)
	e.finish(t, ctx, s)
}

// tryOpen is openQuery that returns the error instead of failing.
func (e *env) tryOpen(ctx context.Context, mode string, comp starling.CompressionOptions, query string) (*side, error) {
	id := fmt.Sprintf("c%d", lastID.Add(1))
	path := "/" + mode + "?id=" + id
	if query != "" {
		path += "&" + query
	}
	if e.dir == starlingServer {
		return e.srv.expect(ctx, e.peer, path, mode, id, comp)
	}
	return dial(ctx, e.peer.ServerURL()+path, id, comp, e.tls)
}

// peerOff: Starling offers or accepts compression while the peer has it
// off: no extension is agreed and messages cross uncompressed.
func (e *env) peerOff(t *testing.T, ctx context.Context) {
	comp := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1}
	s := e.openQuery(t, ctx, peer.ModeEcho, comp, deflateOff)
	defer s.conn.CloseNow()
	if h := e.negotiated(t, ctx, s); h != "" {
		t.Errorf("Sec-WebSocket-Extensions %q with the peer's compression off, want none", h)
	}
	read, written := e.echoCounted(t, ctx, s, starling.MessageText, payload(starling.MessageText, compressibleSize))
	if read < compressibleSize || written < compressibleSize {
		t.Errorf("uncompressed %d-byte echo: %d bytes read, %d written; want at least the message size", compressibleSize, read, written)
	}
	mixedRun(t, ctx, s, 60)
	e.finish(t, ctx, s)
}

// mixedRun writes n messages back to back, of sizes from empty to 70 KB
// around the compression thresholds, random or repetitive, some repeating
// earlier ones (which only context takeover shrinks) and some sent with
// compression turned off, while reading the echoes, which must come back
// whole, in order and of the same type. Bugs in keeping a compression
// context show only after several messages.
func mixedRun(t *testing.T, ctx context.Context, s *side, n int) {
	t.Helper()
	msgs := mixedMessages(n)
	werr := make(chan error, 1)
	go func() {
		defer s.conn.SetCompression(true)
		for i, m := range msgs {
			s.conn.SetCompression(i%7 != 3)
			if err := s.conn.Write(ctx, m.typ, m.data); err != nil {
				werr <- fmt.Errorf("Write message %d (%d bytes): %w", i, len(m.data), err)
				return
			}
		}
		werr <- nil
	}()
	for i, m := range msgs {
		typ, got, err := s.conn.Read(ctx)
		if err != nil {
			t.Fatalf("Read message %d of %d: %v", i, n, err)
		}
		if typ != m.typ {
			t.Fatalf("message %d: type %v, want %v", i, typ, m.typ)
		}
		if d := diff(got, m.data); d != "" {
			t.Fatalf("message %d: %s", i, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}

type message struct {
	typ  starling.MessageType
	data []byte
}

// mixedSizes are around Starling's threshold (128), ws's (1024), a
// frame's 16-bit length, and large enough to span several reads.
var mixedSizes = []int{0, 1, 2, 50, 127, 128, 129, 1000, 1023, 1024, 1025, 4000, 16384, 40000, 65535, 65536, 70000}

func mixedMessages(n int) []message {
	r := rand.New(rand.NewPCG(uint64(n), 3))
	msgs := make([]message, 0, n)
	for i := range n {
		size := mixedSizes[r.IntN(len(mixedSizes))]
		var m message
		switch r.IntN(4) {
		case 0: // incompressible
			b := make([]byte, size)
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			m = message{starling.MessageBinary, b}
		case 1: // compressible text
			m = message{starling.MessageText, payload(starling.MessageText, size)}
		case 2: // text that repeats itself
			w := fmt.Appendf(nil, "word-%d ", r.IntN(1000))
			m = message{starling.MessageText, bytes.Repeat(w, size/len(w)+1)[:size]}
		default: // an earlier message again
			if i == 0 {
				m = message{starling.MessageBinary, nil}
			} else {
				m = msgs[r.IntN(i)]
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
}
