package starling

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// forRoles runs fn for each role in roles over both transports.
func forRoles(t *testing.T, roles []role, fn func(t *testing.T, r role, tr transport)) {
	t.Helper()
	for _, r := range roles {
		for _, tr := range bothTransports {
			t.Run(string(r)+"/"+string(tr), func(t *testing.T) { fn(t, r, tr) })
		}
	}
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = rng.Read(b)
	return b
}

// TestPayloadLengths checks the three payload length encodings of RFC 6455
// section 5.2 at their boundaries, in both directions: the peer sends each
// length, the Starling side reads it whole and echoes it, and the echo must
// use the minimal encoding.
func TestPayloadLengths(t *testing.T) {
	lengths := []struct {
		n    int
		form int // the minimal encoding for n
	}{
		{0, 7}, {125, 7}, {126, 16}, {127, 16}, {128, 16}, {65535, 16}, {65536, 64}, {16 << 20, 64},
	}
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		for _, l := range lengths {
			for _, chop := range []bool{false, true} {
				if chop && l.n > 65536 {
					continue // 1-byte writes of 16 MiB would only test patience
				}
				t.Run(fmt.Sprintf("section5.2/len=%d/chopped=%v", l.n, chop), func(t *testing.T) {
					c, p := newPair(t, r, tr)
					c.SetReadLimit(int64(l.n))
					p.chop = chop
					in := readInBackground(c)
					want := randomBytes(l.n, uint64(l.n))
					go p.send(rawFrame{fin: true, op: 0x2, payload: want})
					m := in.next(t)
					if m.typ != MessageBinary || !bytes.Equal(m.data, want) {
						t.Fatalf("read %v of %d bytes, want binary of %d bytes intact", m.typ, len(m.data), len(want))
					}
					ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
					defer cancel()
					if err := c.Write(ctx, MessageBinary, m.data); err != nil {
						t.Fatalf("Write: %v", err)
					}
					f, err := p.next()
					if err != nil {
						t.Fatal(err)
					}
					if !f.fin || f.op != 0x2 || f.lenForm != l.form || !bytes.Equal(f.payload, want) {
						t.Fatalf("echo: fin=%v op=%#x form=%d len=%d, want fin binary form=%d len=%d intact",
							f.fin, f.op, f.lenForm, len(f.payload), l.form, l.n)
					}
				})
			}
		}
	})
}

// violation is a peer misbehaviour the Starling side must answer by
// failing the connection with code.
type violation struct {
	section string
	name    string
	roles   []role // nil means both
	frames  []rawFrame
	limit   int64 // read limit, if set
	maxFrag int   // MaxFragments, if set
	code    StatusCode
}

func violations() []violation {
	text := func(fin bool, s string) rawFrame { return rawFrame{fin: fin, op: 0x1, payload: []byte(s)} }
	cont := func(fin bool, s string) rawFrame { return rawFrame{fin: fin, op: 0x0, payload: []byte(s)} }
	v := []violation{
		{section: "5.2", name: "RSV1 without extension", frames: []rawFrame{{fin: true, rsv: 0x40, op: 0x1, payload: []byte("a")}}, code: 1002},
		{section: "5.2", name: "RSV2", frames: []rawFrame{{fin: true, rsv: 0x20, op: 0x1, payload: []byte("a")}}, code: 1002},
		{section: "5.2", name: "RSV3", frames: []rawFrame{{fin: true, rsv: 0x10, op: 0x2}}, code: 1002},
		{section: "5.2", name: "RSV1 on ping", frames: []rawFrame{{fin: true, rsv: 0x40, op: 0x9}}, code: 1002},
		{section: "5.2", name: "all RSV bits on close", frames: []rawFrame{{fin: true, rsv: 0x70, op: 0x8}}, code: 1002},
		{section: "5.2", name: "non-minimal 16-bit length 5", frames: []rawFrame{{fin: true, op: 0x2, payload: []byte("hello"), lenForm: 16}}, code: 1002},
		{section: "5.2", name: "non-minimal 16-bit length 125", frames: []rawFrame{{fin: true, op: 0x2, payload: make([]byte, 125), lenForm: 16}}, code: 1002},
		{section: "5.2", name: "non-minimal 64-bit length 200", frames: []rawFrame{{fin: true, op: 0x2, payload: make([]byte, 200), lenForm: 64}}, code: 1002},
		{section: "5.2", name: "non-minimal 64-bit length 65535", frames: []rawFrame{{fin: true, op: 0x2, payload: make([]byte, 65535), lenForm: 64}}, code: 1002},
		{section: "5.2", name: "non-minimal 64-bit length 0", frames: []rawFrame{{fin: true, op: 0x2, lenForm: 64}}, code: 1002},
		{section: "5.1", name: "unmasked client frame", roles: []role{serverRole}, frames: []rawFrame{{fin: true, op: 0x1, payload: []byte("hi"), flipMask: true}}, code: 1002},
		{section: "5.1", name: "unmasked client ping", roles: []role{serverRole}, frames: []rawFrame{{fin: true, op: 0x9, flipMask: true}}, code: 1002},
		{section: "5.1", name: "masked server frame", roles: []role{clientRole}, frames: []rawFrame{{fin: true, op: 0x1, payload: []byte("hi"), flipMask: true}}, code: 1002},
		{section: "5.1", name: "masked server close", roles: []role{clientRole}, frames: []rawFrame{{fin: true, op: 0x8, payload: []byte{0x03, 0xe8}, flipMask: true}}, code: 1002},
		{section: "5.4", name: "continuation without a start", frames: []rawFrame{cont(true, "x")}, code: 1002},
		{section: "5.4", name: "unfinished continuation without a start", frames: []rawFrame{cont(false, "x")}, code: 1002},
		{section: "5.4", name: "new data frame mid-message", frames: []rawFrame{text(false, "a"), {fin: true, op: 0x2, payload: []byte("b")}}, code: 1002},
		{section: "5.4", name: "new text frame mid-message", frames: []rawFrame{text(false, "a"), cont(false, "b"), text(true, "c")}, code: 1002},
		{section: "5.4", name: "continuation after a finished message", frames: []rawFrame{text(true, "a"), cont(true, "b")}, code: 1002},
		{section: "5.5", name: "fragmented ping", frames: []rawFrame{{op: 0x9, payload: []byte("a")}, {fin: true, op: 0x0, payload: []byte("b")}}, code: 1002},
		{section: "5.5", name: "fragmented pong", frames: []rawFrame{{op: 0xA}}, code: 1002},
		{section: "5.5", name: "fragmented close", frames: []rawFrame{{op: 0x8, payload: []byte{0x03, 0xe8}}}, code: 1002},
		{section: "5.5", name: "fragmented ping mid-message", frames: []rawFrame{text(false, "a"), {op: 0x9}}, code: 1002},
		{section: "5.5", name: "ping of 126 bytes", frames: []rawFrame{{fin: true, op: 0x9, payload: make([]byte, 126)}}, code: 1002},
		{section: "5.5", name: "pong of 126 bytes", frames: []rawFrame{{fin: true, op: 0xA, payload: make([]byte, 126)}}, code: 1002},
		{section: "5.5", name: "close of 126 bytes", frames: []rawFrame{{fin: true, op: 0x8, payload: append([]byte{0x03, 0xe8}, strings.Repeat("a", 124)...)}}, code: 1002},
		{section: "5.5.1", name: "close with a 1-byte payload", frames: []rawFrame{{fin: true, op: 0x8, payload: []byte{0x03}}}, code: 1002},
		{section: "8.1", name: "close reason not UTF-8", frames: []rawFrame{{fin: true, op: 0x8, payload: []byte{0x03, 0xe8, 'a', 0xff}}}, code: 1007},
		{section: "8.1", name: "close reason surrogate", frames: []rawFrame{{fin: true, op: 0x8, payload: []byte{0x03, 0xe8, 0xed, 0xa0, 0x80}}}, code: 1007},
		{section: "10.4", name: "message over the read limit", limit: 1000, frames: []rawFrame{{fin: true, op: 0x2, payload: make([]byte, 1001)}}, code: 1009},
		{section: "10.4", name: "fragmented message over the read limit", limit: 1000, frames: []rawFrame{{op: 0x2, payload: make([]byte, 600)}, {fin: true, op: 0x0, payload: make([]byte, 401)}}, code: 1009},
		{section: "10.4", name: "text message over the read limit", limit: 10, frames: []rawFrame{text(true, "hello, world")}, code: 1009},
		{section: "10.4", name: "more fragments than MaxFragments", maxFrag: 10, frames: append(
			[]rawFrame{text(false, "a")}, append(repeatFrames(cont(false, "b"), 9), cont(true, "c"))...), code: 1009},
		{section: "10.4", name: "empty fragments past MaxFragments", maxFrag: 3, frames: []rawFrame{text(false, ""), cont(false, ""), cont(false, ""), cont(false, "")}, code: 1009},
	}
	for _, op := range []byte{0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		v = append(v, violation{section: "5.2", name: fmt.Sprintf("reserved opcode %#x", op), frames: []rawFrame{{fin: true, op: op, payload: []byte("x")}}, code: 1002})
	}
	for _, op := range []byte{0x3, 0xB} {
		v = append(v, violation{section: "5.2", name: fmt.Sprintf("reserved opcode %#x mid-message", op), frames: []rawFrame{text(false, "a"), {fin: true, op: op}}, code: 1002})
	}
	for _, s := range invalidUTF8 {
		v = append(v,
			violation{section: "8.1", name: "invalid UTF-8 " + s.name, frames: []rawFrame{text(true, s.text)}, code: 1007},
			violation{section: "8.1", name: "invalid UTF-8 fragmented " + s.name, frames: splitText(s.text), code: 1007},
		)
	}
	return v
}

func repeatFrames(f rawFrame, n int) []rawFrame {
	fs := make([]rawFrame, n)
	for i := range fs {
		fs[i] = f
	}
	return fs
}

// splitText sends s as a text message of one frame per byte.
func splitText(s string) []rawFrame {
	var fs []rawFrame
	for i := range len(s) {
		op := byte(0x0)
		if i == 0 {
			op = 0x1
		}
		fs = append(fs, rawFrame{fin: i == len(s)-1, op: op, payload: []byte{s[i]}})
	}
	return fs
}

// invalidUTF8 are texts that are not UTF-8 (RFC 3629), each with a name.
var invalidUTF8 = []struct{ name, text string }{
	{"surrogate ED A0 80", "a\xed\xa0\x80b"},
	{"low surrogate ED BF BF", "\xed\xbf\xbf"},
	{"overlong C0 AF", "\xc0\xaf"},
	{"overlong C1 BF", "\xc1\xbf"},
	{"overlong E0 80 AF", "\xe0\x80\xaf"},
	{"overlong F0 80 80 AF", "\xf0\x80\x80\xaf"},
	{"past U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80"},
	{"F5 lead byte", "\xf5\x80\x80\x80"},
	{"FF byte", "ab\xffcd"},
	{"lone continuation", "\x80"},
	{"truncated at the end", "κόσμε\xe2\x82"},
	{"lead byte then ASCII", "\xe2a"},
}

// validUTF8 are texts that are valid UTF-8 at the edges of the ranges.
var validUTF8 = []string{
	"", "hello", "κόσμε", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\ufffd", "\uffff",
	"\U00010000", "\U0001F600", "\U0010FFFF", "a\x00b",
}

// TestViolations checks that each MUST of RFC 6455 sections 5 and 8 broken
// by the peer fails the connection with the right close code (section
// 7.4.1), in both roles, and that Read reports the same code.
func TestViolations(t *testing.T) {
	for _, v := range violations() {
		roles := v.roles
		if roles == nil {
			roles = bothRoles
		}
		t.Run("section"+v.section+"/"+v.name, func(t *testing.T) {
			forRoles(t, roles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				if v.limit > 0 {
					c.SetReadLimit(v.limit)
				}
				if v.maxFrag > 0 {
					c.maxFragments = v.maxFrag
				}
				in := readInBackground(c)
				go func() {
					for _, f := range v.frames {
						if p.send(f) != nil {
							return
						}
					}
				}()
				reason := p.expectClose(v.code)
				if reason == "" {
					t.Errorf("close frame with %v has no reason", v.code)
				}
				err := in.wait(t)
				if got := CloseStatus(err); got != v.code {
					t.Fatalf("Read error %v has status %v, want %v", err, got, v.code)
				}
			})
		})
	}
}

// TestValidUTF8 checks that text at the edges of UTF-8 is accepted whole
// and in 1-byte fragments (RFC 6455 section 8.1).
func TestValidUTF8(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		for _, s := range validUTF8 {
			for _, frames := range [][]rawFrame{{{fin: true, op: 0x1, payload: []byte(s)}}, splitText(s)} {
				if len(frames) == 0 {
					continue
				}
				go func() {
					for _, f := range frames {
						p.send(f)
					}
				}()
				if m := in.next(t); m.typ != MessageText || string(m.data) != s {
					t.Fatalf("read %v %q, want text %q", m.typ, m.data, s)
				}
			}
		}
	})
}

// TestUTF8FailsFast checks that the Starling side fails a text message as
// soon as its bytes cannot be valid UTF-8 (RFC 6455 section 8.1), before
// the rest of the message arrives.
func TestUTF8FailsFast(t *testing.T) {
	prefixes := []struct{ name, first, rest string }{
		{"past U+10FFFF", "ab\xf4\x90", "\x80\x80"},
		{"surrogate", "x\xed\xa0", "\x80"},
		{"overlong 3-byte", "\xe0\x80", "\xaf"},
		{"overlong 2-byte", "\xc0", "\xaf"},
		{"bad continuation", "\xe2\x82a", "\x80"},
	}
	for _, pr := range prefixes {
		t.Run(pr.name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				in := readInBackground(c)
				if err := p.send(rawFrame{op: 0x1, payload: []byte(pr.first)}); err != nil {
					t.Fatal(err)
				}
				// Nothing more is sent until the close frame has come.
				p.expectClose(1007)
				if got := CloseStatus(in.wait(t)); got != 1007 {
					t.Fatalf("Read error has status %v, want 1007", got)
				}
			})
		})
	}
}

// TestFrameLength2To63 checks that a header claiming 2^63 bytes or more
// (RFC 6455 section 5.2: the most significant bit must be 0), or just under
// that, fails with 1009 at once without allocating for the claimed payload.
func TestFrameLength2To63(t *testing.T) {
	for _, claim := range []uint64{1 << 63, 1<<64 - 1, 1<<63 - 1, 1 << 40} {
		t.Run(fmt.Sprint(claim), func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				hdr := []byte{0x82, 127}
				if r == serverRole {
					hdr[1] |= 0x80
				}
				hdr = binary.BigEndian.AppendUint64(hdr, claim)
				if r == serverRole {
					hdr = append(hdr, 1, 2, 3, 4)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				in := readInBackground(c)
				go p.write(hdr)
				p.expectClose(1009)
				err := in.wait(t)
				runtime.ReadMemStats(&after)
				if got := CloseStatus(err); got != 1009 {
					t.Fatalf("Read error %v has status %v, want 1009", err, got)
				}
				if grown := after.TotalAlloc - before.TotalAlloc; grown > 4<<20 {
					t.Fatalf("allocated %d bytes for a frame that was never sent", grown)
				}
			})
		})
	}
}

// TestPingPong checks RFC 6455 section 5.5.2 and 5.5.3: a ping is answered
// by a pong with the identical payload, up to 125 bytes, and unsolicited
// pongs are ignored.
func TestPingPong(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		for _, n := range []int{0, 1, 8, 125} {
			want := randomBytes(n, uint64(n))
			if err := p.send(rawFrame{fin: true, op: 0x9, payload: want}); err != nil {
				t.Fatal(err)
			}
			f, err := p.next()
			if err != nil {
				t.Fatal(err)
			}
			if f.op != 0xA || !f.fin || !bytes.Equal(f.payload, want) {
				t.Fatalf("answer to a %d-byte ping: op %#x fin %v payload %x, want pong %x", n, f.op, f.fin, f.payload, want)
			}
		}
		// An unsolicited pong is no error and needs no answer.
		p.send(rawFrame{fin: true, op: 0xA, payload: []byte("heartbeat")})
		p.send(rawFrame{fin: true, op: 0x1, payload: []byte("after pong")})
		if m := in.next(t); string(m.data) != "after pong" {
			t.Fatalf("read %q", m.data)
		}
	})
}

// TestFragmentedWithPings checks RFC 6455 section 5.4: control frames may
// be injected between fragments, are answered at once, and the message
// arrives intact.
func TestFragmentedWithPings(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		for _, chop := range []bool{false, true} {
			c, p := newPair(t, r, tr)
			p.chop = chop
			in := readInBackground(c)
			parts := []string{"Hello, ", "wor", "", "ld"}
			for i, part := range parts {
				op := byte(0x0)
				if i == 0 {
					op = 0x1
				}
				if err := p.send(rawFrame{fin: i == len(parts)-1, op: op, payload: []byte(part)}); err != nil {
					<-in.done
					t.Fatalf("chop=%v fragment %d: %v (Read: %v)", chop, i, err, in.err)
				}
				if i == len(parts)-1 {
					break
				}
				ping := fmt.Appendf(nil, "ping %d", i)
				if err := p.send(rawFrame{fin: true, op: 0x9, payload: ping}); err != nil {
					t.Fatal(err)
				}
				// The pong comes before the message is complete.
				f, err := p.next()
				if err != nil {
					t.Fatal(err)
				}
				if f.op != 0xA || !bytes.Equal(f.payload, ping) {
					t.Fatalf("got op %#x %q, want pong %q", f.op, f.payload, ping)
				}
			}
			if m := in.next(t); m.typ != MessageText || string(m.data) != "Hello, world" {
				t.Fatalf("read %v %q", m.typ, m.data)
			}
		}
	})
}

// TestReadLimitExact checks that a message of exactly the read limit is
// accepted, fragmented or not (RFC 6455 section 10.4 lets the endpoint pick
// the limit; the boundary must be exact).
func TestReadLimitExact(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		c.SetReadLimit(1000)
		in := readInBackground(c)
		go func() {
			p.send(rawFrame{fin: true, op: 0x2, payload: make([]byte, 1000)})
			p.send(rawFrame{op: 0x2, payload: make([]byte, 500)})
			p.send(rawFrame{fin: true, op: 0x0, payload: make([]byte, 500)})
		}()
		for range 2 {
			if m := in.next(t); len(m.data) != 1000 {
				t.Fatalf("read %d bytes, want 1000", len(m.data))
			}
		}
	})
}

// TestNoReadLimit checks that a negative read limit removes the limit, from
// the options or SetReadLimit, for plain and compressed messages alike.
func TestNoReadLimit(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		c, p := newPairDeflate(t, serverRole, pipeTransport, deflate)
		c.SetReadLimit(-1)
		if got := c.readLimit.Load(); got != math.MaxInt64 {
			t.Fatalf("read limit %d after SetReadLimit(-1), want none", got)
		}
		in := readInBackground(c)
		f := rawFrame{fin: true, op: 0x2, payload: make([]byte, 1000)}
		if deflate {
			f.rsv, f.payload = 0x40, deflateRaw(t, string(f.payload))
		}
		go p.send(f)
		if m := in.next(t); len(m.data) != 1000 {
			t.Fatalf("deflate %v: read %d bytes, want 1000", deflate, len(m.data))
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, nil); err == nil {
			c.CloseNow()
		}
	}))
	defer srv.Close()
	c, _, err := Dial(dialCtx(t), "ws"+strings.TrimPrefix(srv.URL, "http"), &DialOptions{ReadLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got := c.readLimit.Load(); got != math.MaxInt64 {
		t.Fatalf("read limit %d with DialOptions.ReadLimit -1, want none", got)
	}
}

// TestDefaultLimits checks that a Conn starts with the documented limits.
func TestDefaultLimits(t *testing.T) {
	c, _ := newPair(t, serverRole, pipeTransport)
	if got := c.readLimit.Load(); got != DefaultReadLimit {
		t.Errorf("read limit %d, want %d", got, DefaultReadLimit)
	}
	if c.maxFragments != DefaultMaxFragments {
		t.Errorf("MaxFragments %d, want %d", c.maxFragments, DefaultMaxFragments)
	}
}

// TestCloseMidMessage checks that a close frame between the fragments of a
// message (RFC 6455 section 5.4 lets control frames in there) ends the
// read with the peer's CloseError, and is echoed.
func TestCloseMidMessage(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		p.send(rawFrame{op: 0x1, payload: []byte("half a mess")})
		p.sendClose(1001, "leaving")
		f, err := p.nextNonPong()
		if err != nil || f.op != 0x8 {
			t.Fatalf("want the echoed close, got op %#x, %v", f.op, err)
		}
		if code, _ := decodeClose(t, f.payload); code != 1001 {
			t.Fatalf("echoed %v, want 1001", code)
		}
		p.nc.Close()
		var ce *CloseError
		if err := in.wait(t); !errors.As(err, &ce) || ce.Code != 1001 || ce.Reason != "leaving" {
			t.Fatalf("Read error %v, want CloseError{1001, \"leaving\"}", err)
		}
	})
}

// TestReaderSkipsUnread checks that a message left half read is discarded
// by the next Reader call, and is still checked on the way: a text message
// skipped over must be valid UTF-8 too (RFC 6455 section 8.1).
func TestReaderSkipsUnread(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		ctx := dialCtx(t)
		go func() {
			p.send(rawFrame{fin: true, op: 0x2, payload: []byte("first, partly read")})
			p.send(rawFrame{op: 0x1, payload: []byte("second, ")})
			p.send(rawFrame{fin: true, op: 0x0, payload: []byte("unread")})
			p.send(rawFrame{fin: true, op: 0x1, payload: []byte("third")})
			p.send(rawFrame{op: 0x1, payload: []byte("fourth ")})
			p.send(rawFrame{fin: true, op: 0x0, payload: []byte("bad \xff")})
		}()
		_, rd, err := c.Reader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(rd, buf); err != nil || string(buf) != "first" {
			t.Fatalf("read %q, %v", buf, err)
		}
		if _, rd, err = c.Reader(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rd, buf[:1]); err != nil || buf[0] != 's' {
			t.Fatalf("read %q, %v", buf[:1], err)
		}
		if _, data, err := c.Read(ctx); err != nil || string(data) != "third" {
			t.Fatalf("Read %q, %v; want the third message", data, err)
		}
		if _, _, err := c.Reader(ctx); err != nil {
			t.Fatal(err)
		}
		// The fourth message is skipped unread, but its bad byte is seen.
		_, _, err = c.Reader(ctx)
		if CloseStatus(err) != StatusInvalidFramePayload {
			t.Fatalf("Reader after an invalid skipped message: %v, want 1007", err)
		}
		p.expectClose(StatusInvalidFramePayload)
	})
}

// TestUTF8FailsFastAcrossFrames checks the same when the invalid sequence
// is split between two fragments: the 1007 comes once the second fragment
// has made it certain, before the message ends.
func TestUTF8FailsFastAcrossFrames(t *testing.T) {
	splits := []struct{ name, a, b string }{
		{"F4 | 90", "ab\xf4", "\x90"},
		{"ED | A0", "\xed", "\xa0\x80"},
		{"E0 | 80", "x\xe0", "\x80"},
		{"F0 9F | 41", "\xf0\x9f", "A"},
	}
	for _, sp := range splits {
		t.Run(sp.name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				in := readInBackground(c)
				p.send(rawFrame{op: 0x1, payload: []byte(sp.a)})
				p.send(rawFrame{op: 0x0, payload: []byte(sp.b)})
				p.expectClose(StatusInvalidFramePayload)
				if got := CloseStatus(in.wait(t)); got != StatusInvalidFramePayload {
					t.Fatalf("Read error has status %v, want 1007", got)
				}
			})
		})
	}
}

// deflateRaw compresses s as permessage-deflate does (RFC 7692 section
// 7.2.1): a raw DEFLATE stream, sync-flushed, without the final 4 bytes.
func deflateRaw(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(s))
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// TestDeflateFraming checks how RSV1 is read once permessage-deflate is
// negotiated (RFC 6455 section 5.2: reserved bits mean what the extension
// says; RFC 7692 section 6: RSV1 marks the first frame of a compressed
// message, and only that).
func TestDeflateFraming(t *testing.T) {
	hello := deflateRaw(t, "Hello, compressed world")
	tests := []struct {
		name   string
		frames func(t testing.TB) []rawFrame
		want   string     // the message read, if no failure
		code   StatusCode // the failure, if any
	}{
		{"one compressed frame", func(testing.TB) []rawFrame {
			return []rawFrame{{fin: true, rsv: 0x40, op: 0x1, payload: hello}}
		}, "Hello, compressed world", 0},
		{"compressed, two fragments", func(testing.TB) []rawFrame {
			return []rawFrame{{rsv: 0x40, op: 0x1, payload: hello[:5]}, {fin: true, op: 0x0, payload: hello[5:]}}
		}, "Hello, compressed world", 0},
		{"uncompressed message", func(testing.TB) []rawFrame {
			return []rawFrame{{fin: true, op: 0x1, payload: []byte("plain")}}
		}, "plain", 0},
		{"RSV1 on a continuation", func(testing.TB) []rawFrame {
			return []rawFrame{{rsv: 0x40, op: 0x1, payload: hello[:5]}, {fin: true, rsv: 0x40, op: 0x0, payload: hello[5:]}}
		}, "", 1002},
		{"RSV1 on a ping", func(testing.TB) []rawFrame { return []rawFrame{{fin: true, rsv: 0x40, op: 0x9}} }, "", 1002},
		{"RSV2 still reserved", func(testing.TB) []rawFrame {
			return []rawFrame{{fin: true, rsv: 0x60, op: 0x1, payload: hello}}
		}, "", 1002},
		{"compressed invalid UTF-8", func(t testing.TB) []rawFrame {
			return []rawFrame{{fin: true, rsv: 0x40, op: 0x1, payload: deflateRaw(t, "bad \xed\xa0\x80 text")}}
		}, "", 1007},
		{"truncated DEFLATE data", func(t testing.TB) []rawFrame {
			long := deflateRaw(t, strings.Repeat("a long text that deflates to several bytes; ", 20))
			return []rawFrame{{fin: true, rsv: 0x40, op: 0x1, payload: long[:len(long)/2]}}
		}, "", 1007},
		{"DEFLATE block cut short at the message end", func(testing.TB) []rawFrame {
			// Found by FuzzReadFrames: the inflater hit the end of the
			// message inside a block (io.ErrUnexpectedEOF).
			return []rawFrame{{rsv: 0x40, op: 0x2, payload: []byte{0x7a, 0x71}}, {fin: true, op: 0x0, payload: []byte{0xde, 0x71, 0x00, 0x00, 0xdf}}}
		}, "", 1007},
		{"corrupt DEFLATE data", func(testing.TB) []rawFrame {
			return []rawFrame{{fin: true, rsv: 0x40, op: 0x2, payload: []byte{0xff, 0xff, 0xff, 0xff}}}
		}, "", 1007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPairDeflate(t, r, tr, true)
				in := readInBackground(c)
				go func() {
					for _, f := range tt.frames(t) {
						if p.send(f) != nil {
							return
						}
					}
				}()
				if tt.code != 0 {
					p.expectClose(tt.code)
					if got := CloseStatus(in.wait(t)); got != tt.code {
						t.Fatalf("Read error status %v, want %v", got, tt.code)
					}
					return
				}
				if m := in.next(t); string(m.data) != tt.want {
					t.Fatalf("read %q, want %q", m.data, tt.want)
				}
				// The Starling side compresses what it sends: RSV1 on the
				// first frame only.
				if err := c.Write(dialCtx(t), MessageText, []byte(tt.want)); err != nil {
					t.Fatal(err)
				}
				f, err := p.next()
				if err != nil || f.rsv != 0x40 || !f.fin {
					t.Fatalf("echo: rsv %#x fin %v, %v; want RSV1 and FIN", f.rsv, f.fin, err)
				}
				inflated, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(f.payload, 0, 0, 0xff, 0xff))))
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) || string(inflated) != tt.want {
					t.Fatalf("echo inflates to %q (%v), want %q", inflated, err, tt.want)
				}
			})
		})
	}
}

// TestReadSlice reads messages of every shape with ReadSlice, sent in one
// write so that several are buffered at once: in one frame (lent from the
// read buffer), larger than the read buffer, fragmented and compressed
// (lent from a spill buffer), and empty.
func TestReadSlice(t *testing.T) {
	hello := deflateRaw(t, "Hello, compressed world")
	msgs := []struct {
		frames []rawFrame
		typ    MessageType
		want   []byte
	}{
		{[]rawFrame{{fin: true, op: 0x1, payload: []byte("small")}}, MessageText, []byte("small")},
		{[]rawFrame{{fin: true, op: 0x2, payload: randomBytes(16<<10, 1)}}, MessageBinary, randomBytes(16<<10, 1)},
		{[]rawFrame{{fin: true, op: 0x2, payload: randomBytes(largeBufferSize+1, 2)}}, MessageBinary, randomBytes(largeBufferSize+1, 2)},
		{splitText("fragmented, three ways"), MessageText, []byte("fragmented, three ways")},
		{[]rawFrame{{fin: true, rsv: 0x40, op: 0x1, payload: hello}}, MessageText, []byte("Hello, compressed world")},
		{[]rawFrame{{fin: true, op: 0x2}}, MessageBinary, nil},
		{[]rawFrame{{fin: true, op: 0x2, payload: randomBytes(300, 3)}}, MessageBinary, randomBytes(300, 3)},
	}
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPairDeflate(t, r, tr, true)
		var wire []byte
		for _, m := range msgs {
			for _, f := range m.frames {
				wire = append(wire, encodeFrame(f, p.mask, [4]byte{1, 2, 3, 4})...)
			}
		}
		go p.write(wire)
		ctx := dialCtx(t)
		for i, m := range msgs {
			typ, got, err := c.ReadSlice(ctx)
			if err != nil || typ != m.typ || !bytes.Equal(got, m.want) {
				t.Fatalf("message %d: %v of %d bytes, %v; want %v of %d bytes intact", i, typ, len(got), err, m.typ, len(m.want))
			}
		}
	})
}

// TestReadSliceInvalidUTF8 checks that a text message lent whole from the
// read buffer is still checked for UTF-8 (RFC 6455 section 8.1).
func TestReadSliceInvalidUTF8(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		go p.send(rawFrame{fin: true, op: 0x1, payload: []byte("bad \xed\xa0\x80 text")})
		if _, _, err := c.ReadSlice(dialCtx(t)); CloseStatus(err) != StatusInvalidFramePayload {
			t.Fatalf("ReadSlice: %v, want a failure with 1007", err)
		}
		p.expectClose(StatusInvalidFramePayload)
	})
}

// TestReadSliceOutlivesClose checks that Close, reading the peer's
// messages until its close frame, leaves the bytes ReadSlice lent intact:
// the caller may still be using them on another goroutine.
func TestReadSliceOutlivesClose(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		first, second := randomBytes(16<<10, 4), randomBytes(16<<10, 5)
		go p.send(rawFrame{fin: true, op: 0x2, payload: first})
		_, got, err := c.ReadSlice(dialCtx(t))
		if err != nil || !bytes.Equal(got, first) {
			t.Fatalf("ReadSlice: %d bytes, %v", len(got), err)
		}
		sent, closed := make(chan error, 1), make(chan error, 1)
		go func() { sent <- p.send(rawFrame{fin: true, op: 0x2, payload: second}) }()
		go func() { closed <- c.Close(StatusNormalClosure, "") }()
		if f, err := p.next(); err != nil || f.op != 0x8 {
			t.Fatalf("got opcode %#x, %v; want the close frame", f.op, err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if err := p.sendClose(1000, ""); err != nil {
			t.Fatal(err)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !bytes.Equal(got, first) {
			t.Fatal("Close overwrote the message ReadSlice returned")
		}
	})
}

// TestIdleTimeoutSlowReader checks that the idle timeout ends only a
// connection on which nothing arrives: a Reader's caller that takes longer
// than the timeout between two reads of a message the peer has sent whole
// must still read all of it.
func TestIdleTimeoutSlowReader(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tr := range bothTransports {
		t.Run(string(tr), func(t *testing.T) {
			c, p := newServerPair(t, tr, connConfig{idleTimeout: idle})
			msg := randomBytes(64<<10, 8)
			go p.send(rawFrame{fin: true, op: 0x2, payload: msg})
			_, rd, err := c.Reader(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 10)
			if _, err := io.ReadFull(rd, got); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * idle) // the caller is busy; the peer is not idle
			rest, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(append(got, rest...), msg) {
				t.Fatalf("read %d of %d bytes, then %v", len(got)+len(rest), len(msg), err)
			}
		})
	}
}

// TestReaderCutShortByClose checks that a message a Reader's reader had
// not finished when Close, on another goroutine, read past it to the
// peer's close frame, ends with the connection's end, not with io.EOF as
// if the message were whole.
func TestReaderCutShortByClose(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		go p.send(rawFrame{op: 0x2, payload: []byte("first half, ")})
		_, rd, err := c.Reader(dialCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(rd, buf); err != nil {
			t.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() { closed <- c.Close(StatusNormalClosure, "") }()
		if f, err := p.nextNonPong(); err != nil || f.op != 0x8 {
			t.Fatalf("got opcode %#x, %v; want the close frame", f.op, err)
		}
		go func() {
			p.send(rawFrame{fin: true, op: 0x0, payload: []byte("second half")})
			p.sendClose(1000, "")
			if r == clientRole {
				p.nc.Close() // as a server does after the handshake
			}
		}()
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if rest, err := io.ReadAll(rd); err == nil {
			t.Fatalf("the rest of the message read as %q and a clean end; Close discarded it", rest)
		}
	})
}

// BenchmarkRead measures reading one message of each size on a server
// connection, with the payload copied into the caller's buffer (ReadAppend)
// and lent from the connection's (ReadSlice). A raw peer on loopback TCP
// writes the same masked frames as fast as the connection takes them.
func BenchmarkRead(b *testing.B) {
	methods := []struct {
		name string
		read func(c *Conn, buf []byte) ([]byte, error)
	}{
		{"ReadAppend", func(c *Conn, buf []byte) ([]byte, error) {
			_, p, err := c.ReadAppend(context.Background(), buf[:0])
			return p, err
		}},
		{"ReadSlice", func(c *Conn, _ []byte) ([]byte, error) {
			_, p, err := c.ReadSlice(context.Background())
			return p, err
		}},
	}
	for _, m := range methods {
		for _, size := range []int{16, 1 << 10, 16 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dB", m.name, size), func(b *testing.B) {
				c, p := newPair(b, serverRole, tcpTransport)
				c.SetReadLimit(int64(size))
				f := encodeFrame(rawFrame{fin: true, op: 0x2, payload: randomBytes(size, 7)}, true, [4]byte{1, 2, 3, 4})
				blob := bytes.Repeat(f, max(1, (256<<10)/len(f)))
				go func() {
					for p.write(blob) == nil {
					}
				}()
				var buf []byte
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if buf, err = m.read(c, buf); err != nil || len(buf) != size {
						b.Fatalf("read %d bytes, %v", len(buf), err)
					}
				}
			})
		}
	}
}
