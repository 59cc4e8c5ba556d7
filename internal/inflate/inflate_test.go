package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// compressMsg compresses msg with fw (already writing to buf), sync-flushes
// and removes the 00 00 ff ff tail, as RFC 7692 section 7.2.1 does.
func compressMsg(t testing.TB, fw *flate.Writer, buf *bytes.Buffer, msg []byte) []byte {
	t.Helper()
	buf.Reset()
	if _, err := fw.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	z := buf.Bytes()
	if !bytes.HasSuffix(z, syncTail[:]) {
		t.Fatalf("flush did not end in 00 00 ff ff: % x", z[max(0, len(z)-8):])
	}
	return bytes.Clone(z[:len(z)-4])
}

func compress(t testing.TB, level int, msg []byte) []byte {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	return compressMsg(t, fw, &buf, msg)
}

// inflateAll reads one message from payload with r, in reads of chunk bytes.
func inflateAll(r *Reader, src io.Reader, chunk int) ([]byte, error) {
	r.Reset(src)
	var out []byte
	p := make([]byte, chunk)
	for {
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func textData(n int) []byte {
	words := strings.Fields(`the quick brown fox jumps over the lazy dog while a
		websocket carries permessage deflate frames across the wire and every
		sliding window remembers thirty two kilobytes of history so that
		repeated phrases compress into short back references`)
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func jsonMessages(count, size int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 9))
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	kinds := []string{"update", "presence", "message", "typing"}
	var out [][]byte
	for range count {
		var b bytes.Buffer
		b.WriteString("[")
		for b.Len() < size {
			fmt.Fprintf(&b, `{"id":%d,"user":%q,"type":%q,"ts":%d,"ok":true},`,
				r.IntN(1e6), users[r.IntN(len(users))], kinds[r.IntN(len(kinds))], 1700000000+r.IntN(1e5))
		}
		out = append(out, b.Bytes()[:size])
	}
	return out
}

func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func corpus() map[string][]byte {
	return map[string][]byte{
		"empty":  {},
		"1B":     {'x'},
		"text":   textData(10000),
		"json":   jsonMessages(1, 3000, 1)[0],
		"random": randomData(5000, 1),
		"runs":   bytes.Repeat([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), 2000),
		"zeros":  make([]byte, 100000),
		"64KiB":  textData(64 << 10),
		"1MiB":   append(textData(1<<19), randomData(1<<19, 2)...),
	}
}

func TestRoundTrip(t *testing.T) {
	for name, msg := range corpus() {
		for level := -2; level <= 9; level++ {
			z := compress(t, level, msg)
			for _, keep := range []bool{false, true} {
				for _, chunk := range []int{1 << 20, 1000, 1} {
					if chunk == 1 && len(msg) > 70000 {
						continue
					}
					got, err := inflateAll(NewReader(keep), bytes.NewReader(z), chunk)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("%s level %d keep %v chunk %d: %d bytes, %v; want %d bytes", name, level, keep, chunk, len(got), err, len(msg))
					}
				}
			}
			if len(msg) < 70000 {
				got, err := inflateAll(NewReader(false), iotest.OneByteReader(bytes.NewReader(z)), 4096)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("%s level %d one byte src: %d bytes, %v", name, level, len(got), err)
				}
				got, err = inflateAll(NewReader(false), iotest.DataErrReader(bytes.NewReader(z)), 4096)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("%s level %d data+EOF src: %d bytes, %v", name, level, len(got), err)
				}
			}
		}
	}
}

func TestContextTakeover(t *testing.T) {
	msgs := jsonMessages(200, 1024, 5)
	msgs = append(msgs, textData(100000), randomData(40000, 4), textData(33000), []byte{}, []byte("x"))
	msgs = append(msgs, jsonMessages(50, 300, 6)...)
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, 5, flate.BestCompression} {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, level)
		r := NewReader(true)
		for i, m := range msgs {
			z := compressMsg(t, fw, &buf, m)
			chunk := []int{1, 7, 4096, 1 << 20}[i%4]
			var src io.Reader = bytes.NewReader(z)
			if i%5 == 0 {
				src = iotest.HalfReader(src)
			}
			got, err := inflateAll(r, src, chunk)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("level %d message %d: %d bytes, %v; want %d", level, i, len(got), err, len(m))
			}
		}
	}
}

// bitWriter assembles hand-made DEFLATE streams, LSB first.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
	return w
}

// code writes a Huffman code, most significant bit first.
func (w *bitWriter) code(c uint64, n uint) *bitWriter {
	return w.bits(uint64(reverse(int(c), n)), n)
}

func (w *bitWriter) align() *bitWriter {
	if w.nacc > 0 {
		w.bits(0, 8-w.nacc)
	}
	return w
}

func (w *bitWriter) bytes() []byte { return bytes.Clone(w.align().out) }

// fixedLitCode writes literal/length symbol sym in the fixed code.
func (w *bitWriter) fixedLitCode(sym int) *bitWriter {
	switch {
	case sym < 144:
		return w.code(uint64(0x30+sym), 8)
	case sym < 256:
		return w.code(uint64(0x190+sym-144), 9)
	case sym < 280:
		return w.code(uint64(sym-256), 7)
	default:
		return w.code(uint64(0xc0+sym-280), 8)
	}
}

func stored(final bool, data []byte) []byte {
	w := new(bitWriter)
	f := uint64(0)
	if final {
		f = 1
	}
	w.bits(f, 1).bits(0, 2).align()
	n := len(data)
	w.bits(uint64(n), 16).bits(uint64(n^0xffff), 16)
	return append(w.out, data...)
}

func decodeOne(keep bool, history, payload []byte) ([]byte, error) {
	r := NewReader(keep)
	if len(history) > 0 {
		var h []byte
		for len(history) > 0 {
			n := min(len(history), 65535)
			h = append(h, stored(false, history[:n])...)
			history = history[n:]
		}
		h = append(h, 0x00) // the sync flush's block header, RFC 7692 7.2.1
		if _, err := inflateAll(r, bytes.NewReader(h), 4096); err != nil {
			return nil, err
		}
	}
	return inflateAll(r, bytes.NewReader(payload), 4096)
}

func isCorrupt(err error) bool {
	var c flate.CorruptInputError
	return errors.As(err, &c)
}

func TestHandMade(t *testing.T) {
	hello := new(bitWriter).bits(0, 1).bits(1, 2)
	for _, c := range []byte("Hello") {
		hello.fixedLitCode(int(c))
	}
	helloFixed := hello.fixedLitCode(256).bytes()

	// "ab" then a copy of length 10 at distance 2, in a fixed block.
	w := new(bitWriter).bits(0, 1).bits(1, 2).fixedLitCode('a').fixedLitCode('b')
	w.fixedLitCode(264).code(1, 5) // length 10, distance code 1 = 2
	overlap := w.fixedLitCode(256).bits(0, 3).bytes()

	// A BFINAL fixed block with "Hi".
	fw := new(bitWriter).bits(1, 1).bits(1, 2).fixedLitCode('H').fixedLitCode('i').fixedLitCode(256)
	finalHi := fw.bytes()

	// A BFINAL fixed block with "\xc8i", 27 bits, then 5 bits set: the
	// data ends with the final block (RFC 1951 section 3.2.3), so the rest
	// of its byte is padding, whatever its value.
	padded := new(bitWriter).bits(1, 1).bits(1, 2).fixedLitCode(0xc8).fixedLitCode('i').fixedLitCode(256).bits(0x1f, 5).bytes()

	big := randomData(65535, 7)
	tests := []handCase{
		{"empty payload", nil, nil, "", ""},
		{"fixed", nil, helloFixed, "Hello", ""},
		{"overlapping copy", nil, overlap, "ababababababab"[:12], ""},
		{"stored 0", nil, append(stored(false, nil), 0), "", ""},
		{"stored 65535", nil, append(stored(false, big), 0), string(big), ""},
		{"stored 65535 twice", nil, append(append(stored(false, big), stored(false, big)...), 0), string(big) + string(big), ""},
		{"stored, no sync header after it", nil, stored(false, []byte("abc")), "", "truncated"},
		{"stored cut, completed by the tail", nil, stored(false, []byte("abcdef"))[:7], "ab\x00\x00\xff\xff", ""},
		{"final then 0x00", nil, append(bytes.Clone(finalHi), 0x00), "Hi", ""},
		{"final alone", nil, finalHi, "Hi", ""},
		{"final then empty stored", nil, append(bytes.Clone(finalHi), 0, 0, 0, 0xff, 0xff), "Hi", ""},
		{"final with padding bits set, then 0x00", nil, append(padded, 0x00), "\xc8i", ""},
		{"final then 0x01", nil, append(bytes.Clone(finalHi), 0x01), "", "corrupt"},
		{"final then garbage", nil, append(bytes.Clone(finalHi), 0x00, 0x00, 0x01), "", "corrupt"},
		{"final then too much", nil, append(bytes.Clone(finalHi), 0, 0, 0, 0xff, 0xff, 0), "", "corrupt"},
		{"final stored", nil, append(stored(true, []byte("abc")), 0x00), "abc", ""},
		{"7.2.3.2 first", nil, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, "Hello", ""},
		{"7.2.3.2 second without history", nil, []byte{0xf2, 0x00, 0x11, 0x00, 0x00}, "", "corrupt"},
		{"7.2.3.2 second with history", []byte("Hello"), []byte{0xf2, 0x00, 0x11, 0x00, 0x00}, "Hello", ""},
		// 'H', then 4 bytes from distance 5: "Hel" and 'H' are only 4.
		{"distance beyond history", []byte("Hel"), []byte{0xf2, 0x00, 0x11, 0x00, 0x00}, "", "corrupt"},
		{"reserved type", nil, []byte{0x07, 0x00}, "", "corrupt"},
		{"reserved type, not final", nil, []byte{0x06, 0x00}, "", "corrupt"},
		{"LEN/NLEN mismatch", nil, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'H'}, "", "corrupt"},
		{"truncated stored", nil, stored(false, []byte("abcdef"))[:6], "", "truncated"},
		{"fixed length 286", nil, new(bitWriter).bits(0, 1).bits(1, 2).fixedLitCode('a').fixedLitCode(286).bytes(), "", "corrupt"},
		{"fixed distance 30", nil, new(bitWriter).bits(0, 1).bits(1, 2).fixedLitCode('a').fixedLitCode(257).code(30, 5).bytes(), "", "corrupt"},
	}
	// Dynamic blocks with hand-chosen code lengths.
	dyn := func(lit, dist []uint8) []byte {
		// Code length code: lengths 0..15 only, all of length 5 except
		// 16-18 unused: 16 symbols of length 4 form a complete code.
		w := new(bitWriter).bits(0, 1).bits(2, 2)
		w.bits(uint64(len(lit)-257), 5).bits(uint64(len(dist)-1), 5).bits(19-4, 4)
		var cl [19]uint8
		for i := range 16 {
			cl[i] = 4
		}
		for _, sym := range clOrder {
			w.bits(uint64(cl[sym]), 3)
		}
		for _, l := range append(append([]uint8(nil), lit...), dist...) {
			w.code(uint64(l), 4) // code of symbol l is l: canonical, all 4 bits
		}
		return w.out
	}
	lens := func(n int, set map[int]uint8) []uint8 {
		l := make([]uint8, n)
		for k, v := range set {
			l[k] = v
		}
		return l
	}
	single := func(dist []uint8, body func(w *bitWriter)) []byte {
		w := new(bitWriter).bits(0, 1).bits(2, 2)
		lit := lens(258, map[int]uint8{'a': 2, 256: 2, 257: 1})
		w.bits(uint64(len(lit)-257), 5).bits(uint64(len(dist)-1), 5).bits(19-4, 4)
		for _, sym := range clOrder {
			if sym < 16 {
				w.bits(4, 3)
			} else {
				w.bits(0, 3)
			}
		}
		for _, l := range append(append([]uint8(nil), lit...), dist...) {
			w.code(uint64(l), 4)
		}
		body(w)
		return w.bytes()
	}
	// lit codes: 257 -> 0, 'a' -> 10, 256 -> 11.
	tests = append(tests,
		hc("single distance code", "aaaa", "", nil, single(lens(1, map[int]uint8{0: 1}), func(w *bitWriter) {
			w.code(2, 2).code(0, 1).code(0, 1).code(3, 2) // 'a', length 3 dist code 0, EOB
		})),
		hc("single distance code, other bit", "", "corrupt", nil, single(lens(1, map[int]uint8{0: 1}), func(w *bitWriter) {
			w.code(2, 2).code(0, 1).code(1, 1).code(3, 2)
		})),
		hc("empty distance code unused", "a", "", nil, single(lens(1, nil), func(w *bitWriter) {
			w.code(2, 2).code(3, 2)
		})),
		hc("empty distance code used", "", "corrupt", nil, single(lens(1, nil), func(w *bitWriter) {
			w.code(2, 2).code(0, 1).code(0, 1).code(3, 2)
		})),
		hc("incomplete distance code", "", "corrupt", nil, single(lens(2, map[int]uint8{0: 2, 1: 2}), func(w *bitWriter) {
			w.code(2, 2).code(3, 2)
		})),
		hc("over-subscribed distance code", "", "corrupt", nil, single(lens(3, map[int]uint8{0: 1, 1: 1, 2: 1}), func(w *bitWriter) {
			w.code(2, 2).code(3, 2)
		})),
		hc("incomplete literal code", "", "corrupt", nil, dyn(lens(257, map[int]uint8{'a': 2, 256: 2}), lens(1, nil))),
		hc("over-subscribed literal code", "", "corrupt", nil, dyn(lens(257, map[int]uint8{'a': 1, 'b': 1, 256: 1}), lens(1, nil))),
		hc("HLIT 287", "", "corrupt", nil, new(bitWriter).bits(0, 1).bits(2, 2).bits(30, 5).bits(0, 5).bits(15, 4).bits(0, 32).bytes()),
		hc("HDIST 31", "", "corrupt", nil, new(bitWriter).bits(0, 1).bits(2, 2).bits(0, 5).bits(30, 5).bits(15, 4).bits(0, 32).bytes()),
		hc("repeat with no previous length", "", "corrupt", nil, func() []byte {
			w := new(bitWriter).bits(0, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4)
			// Code length code: 16 and 17 and 18 and 0, all length 2.
			w.bits(2, 3).bits(2, 3).bits(2, 3).bits(2, 3)
			return w.code(1, 2).bits(0, 2).bits(0, 32).bytes() // code 01 is symbol 16
		}()),
	)
	for _, tt := range tests {
		for _, keep := range []bool{false, true} {
			if tt.history != nil && !keep {
				continue
			}
			got, err := decodeOne(keep, tt.history, tt.payload)
			tt.check(t, got, err)
			if tt.history == nil {
				// Again with the payload in one-byte reads.
				got, err = inflateAll(NewReader(keep), iotest.OneByteReader(bytes.NewReader(tt.payload)), 4096)
				tt.check(t, got, err)
			}
		}
	}
}

// handCase is a hand-made payload and its expected result: output, and
// err "" (success), "corrupt" or "truncated".
type handCase struct {
	name    string
	history []byte
	payload []byte
	want    string
	err     string
}

// check compares the outcome of decoding tt.payload with tt's.
func (tt handCase) check(t *testing.T, got []byte, err error) {
	t.Helper()
	switch tt.err {
	case "":
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %d bytes, %v; want %d", tt.name, len(got), err, len(tt.want))
		}
	case "corrupt":
		if !isCorrupt(err) {
			t.Errorf("%s: %d bytes, %v; want a CorruptInputError", tt.name, len(got), err)
		}
	case "truncated":
		if err != io.ErrUnexpectedEOF {
			t.Errorf("%s: %d bytes, %v; want io.ErrUnexpectedEOF", tt.name, len(got), err)
		}
	}
}

func hc(name, want, err string, history, payload []byte) handCase {
	return handCase{name, history, payload, want, err}
}

// TestTruncated cuts valid messages at every byte. A cut payload is
// still inflated with 00 00 ff ff restored after it (RFC 7692 section
// 7.2.2), and those bytes are data to a cut block: a stored block cut 4
// bytes short is completed by them, and a Huffman block's codes may decode
// them into a few wrong bytes and an end of block that ends exactly with
// the tail. So a cut may succeed with wrong output, exactly where
// compress/flate fed the same bytes does; every cut is compared with it.
func TestTruncated(t *testing.T) {
	msgs := [][]byte{textData(3000), jsonMessages(1, 2000, 3)[0], randomData(300, 3)}
	for _, msg := range msgs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.BestCompression} {
			z := compress(t, level, msg)
			for cut := range len(z) {
				compareWithReference(t, nil, z[:cut], 4096)
			}
		}
	}
}

// backReferences returns messages that copy from before their start:
// "Hello" by reference (RFC 7692 section 7.2.3.2), and the last byte only
// (length 3, distance 1).
func backReferences() [][]byte {
	return [][]byte{
		{0xf2, 0x00, 0x11, 0x00, 0x00},
		new(bitWriter).bits(0, 1).bits(1, 2).fixedLitCode(257).code(0, 5).fixedLitCode(256).bits(0, 3).bytes(),
	}
}

// TestErrorDropsHistory checks that after an error the next message sees
// no history.
func TestErrorDropsHistory(t *testing.T) {
	r := NewReader(true)
	if got, err := inflateAll(r, bytes.NewReader([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100); err != nil || string(got) != "Hello" {
		t.Fatalf("first: %q, %v", got, err)
	}
	if _, err := inflateAll(r, bytes.NewReader([]byte{0x07}), 100); !isCorrupt(err) {
		t.Fatalf("bad message: %v", err)
	}
	for _, ref := range backReferences() {
		if got, err := inflateAll(r, bytes.NewReader(ref), 100); !isCorrupt(err) {
			t.Fatalf("reference % x into dropped history: %q, %v", ref, got, err)
		}
	}
}

// TestSrcError passes src's own error through, after the output before it,
// wherever in the payload it comes.
func TestSrcError(t *testing.T) {
	errFail := errors.New("fail")
	z := compress(t, flate.BestSpeed, textData(20000))
	got, err := inflateAll(NewReader(false), io.MultiReader(bytes.NewReader(z[:len(z)/2]), iotest.ErrReader(errFail)), 512)
	if err != errFail || len(got) == 0 {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	// An error that src returns only once, with the rest of the payload
	// after it, must not be lost either: not in the middle of the data,
	// whose blocks end at different bits in messages of a few lengths,
	// nor after a final block, where the payload's end is read.
	type message struct{ msg, z []byte }
	msgs := []message{{[]byte("abc"), append(stored(true, []byte("abc")), 0x00)}}
	for n := 2000; n < 2008; n++ {
		msg := textData(n)
		msgs = append(msgs, message{msg, compress(t, flate.BestSpeed, msg)})
	}
	for _, m := range msgs {
		msg, z := m.msg, m.z
		for cut := range len(z) + 1 {
			failed := false
			failOnce := readFunc(func([]byte) (int, error) {
				if failed {
					return 0, io.EOF
				}
				failed = true
				return 0, errFail
			})
			got, err := inflateAll(NewReader(false), io.MultiReader(bytes.NewReader(z[:cut]), failOnce, bytes.NewReader(z[cut:])), 512)
			if err != errFail || !bytes.HasPrefix(msg, got) {
				t.Fatalf("message of %d bytes, error after %d of %d: %d bytes, %v; want a prefix and %v", len(msg), cut, len(z), len(got), err, errFail)
			}
		}
	}
}

// TestIdleSize checks the claim that an idle Reader without history holds
// only its own struct, and that one with history holds only the window.
func TestIdleSize(t *testing.T) {
	z := compress(t, flate.BestSpeed, textData(5000))
	r := NewReader(false)
	inflateAll(r, bytes.NewReader(z), 1000)
	if r.s != nil || r.win != nil || !r.Idle() {
		t.Fatal("an idle Reader without history holds pooled buffers")
	}
	r = NewReader(true)
	inflateAll(r, bytes.NewReader(z), 1000)
	if r.s != nil || r.win == nil || !r.Idle() {
		t.Fatal("an idle Reader with history holds more than its window")
	}
}

// TestAllocs checks that inflating messages allocates nothing once the
// pools are warm.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("-race makes sync.Pool drop items, so allocations cannot be counted; .ci/run runs this test without -race")
	}
	z := compress(t, flate.BestSpeed, textData(50000))
	p := make([]byte, 4096)
	src := bytes.NewReader(z)
	for _, keep := range []bool{false, true} {
		r := NewReader(keep)
		n := testing.AllocsPerRun(20, func() {
			src.Reset(z)
			r.Reset(src)
			for {
				if _, err := r.Read(p); err != nil {
					break
				}
			}
		})
		if n > 0 {
			t.Errorf("keep %v: %.1f allocations per message", keep, n)
		}
	}
}

// TestPromptRead checks that Read returns what it has when src would block:
// a message's first bytes arrive before the rest of its payload, whether
// the payload stops inside a Huffman block, inside a stored block,
// between blocks or before the 0x00 that may follow a final block.
func TestPromptRead(t *testing.T) {
	text := textData(2000)
	z := compress(t, flate.BestSpeed, text)
	two := append(append(stored(false, []byte("abc")), stored(false, []byte("def"))...), 0x00)
	tests := []struct {
		name          string
		payload, want []byte
		cut           int
	}{
		{"inside a Huffman block", z, text, len(z) / 2},
		{"inside a stored block", two, []byte("abcdef"), 6}, // 5-byte header, "a"
		{"between blocks", two, []byte("abcdef"), 8},
		{"after the final block", append(stored(true, []byte("abc")), 0x00), []byte("abc"), 8},
	}
	for _, tt := range tests {
		pr, pw := io.Pipe()
		r := NewReader(false)
		r.Reset(pr)
		go pw.Write(tt.payload[:tt.cut])
		p := make([]byte, 10)
		done := make(chan error)
		var n int
		go func() {
			var err error
			n, err = r.Read(p)
			done <- err
		}()
		select {
		case err := <-done:
			if n == 0 || err != nil || !bytes.HasPrefix(tt.want, p[:n]) {
				t.Fatalf("%s: first Read = %q, %v", tt.name, p[:n], err)
			}
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("test over"))
			t.Fatalf("%s: Read waits for more input with output decoded", tt.name)
		}
		go func() {
			pw.Write(tt.payload[tt.cut:])
			pw.Close()
		}()
		rest, err := io.ReadAll(r)
		if got := append(p[:n], rest...); err != nil || !bytes.Equal(got, tt.want) {
			t.Fatalf("%s: %d bytes, %v; want %d", tt.name, len(got), err, len(tt.want))
		}
	}
}

// TestDiscardAndClose: Discard mid-message drops the history but keeps
// the window; Close gives the window up; Reset mid-message drops the
// history too.
func TestDiscardAndClose(t *testing.T) {
	hello := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	again := []byte{0xf2, 0x00, 0x11, 0x00, 0x00} // "Hello" from the history
	long := compress(t, flate.BestSpeed, textData(100000))
	for _, stop := range []string{"Discard", "Close", "Reset"} {
		r := NewReader(true)
		if got, err := inflateAll(r, bytes.NewReader(hello), 100); err != nil || string(got) != "Hello" {
			t.Fatalf("%s: first message %q, %v", stop, got, err)
		}
		r.Reset(bytes.NewReader(long))
		if n, err := r.Read(make([]byte, 10)); n != 10 || err != nil {
			t.Fatalf("%s: %d, %v", stop, n, err)
		}
		if r.Idle() {
			t.Errorf("%s: Idle in the middle of a message", stop)
		}
		switch stop {
		case "Discard":
			r.Discard()
			if !r.Idle() || r.win == nil {
				t.Errorf("Discard: idle %v, window %v", r.Idle(), r.win != nil)
			}
			if _, err := r.Read(make([]byte, 10)); err == nil {
				t.Error("Read after Discard succeeded")
			}
		case "Close":
			r.Close()
			if !r.Idle() || r.win != nil {
				t.Errorf("Close: idle %v, window %v", r.Idle(), r.win != nil)
			}
		}
		if _, err := inflateAll(r, bytes.NewReader(again), 100); !isCorrupt(err) {
			t.Errorf("%s: reference into the dropped history: %v", stop, err)
		}
		if got, err := inflateAll(r, bytes.NewReader(hello), 100); err != nil || string(got) != "Hello" {
			t.Errorf("%s: next message %q, %v", stop, got, err)
		}
		if got, err := inflateAll(r, bytes.NewReader(again), 100); err != nil || string(got) != "Hello" {
			t.Errorf("%s: history after a fresh start %q, %v", stop, got, err)
		}
	}
}

// zeroReader returns no bytes and no error, forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestNoProgress(t *testing.T) {
	if _, err := inflateAll(NewReader(false), zeroReader{}, 100); err != io.ErrNoProgress {
		t.Fatalf("err = %v; want io.ErrNoProgress", err)
	}
	if got, err := inflateAll(NewReader(false), nil, 100); err != nil || len(got) != 0 {
		t.Fatalf("nil src: %q, %v; want an empty message", got, err)
	}
	// Empty reads between bytes are progress: only many in a row are not.
	msg := textData(2000)
	br := bytes.NewReader(compress(t, flate.BestSpeed, msg))
	empty := false
	src := readFunc(func(p []byte) (int, error) {
		if empty = !empty; empty {
			return 0, nil
		}
		return br.Read(p[:1])
	})
	if got, err := inflateAll(NewReader(false), src, 100); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("an empty read before each byte: %d bytes, %v; want %d", len(got), err, len(msg))
	}
}

// TestNoTakeoverForgetsHistory checks that without context takeover a
// message cannot refer to the one before it (RFC 7692 section 7.1.1): the
// reference is beyond the window, so the stream is corrupt.
func TestNoTakeoverForgetsHistory(t *testing.T) {
	hello := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	r := NewReader(false)
	for _, ref := range backReferences() {
		if got, err := inflateAll(r, bytes.NewReader(hello), 100); err != nil || string(got) != "Hello" {
			t.Fatalf("first: %q, %v", got, err)
		}
		if got, err := inflateAll(r, bytes.NewReader(ref), 100); !isCorrupt(err) {
			t.Fatalf("reference % x into the previous message: %q, %v; want a CorruptInputError", ref, got, err)
		}
	}
}

// TestReadEdges checks Read outside the middle of a message: before any
// Reset, with an empty buffer, and again after io.EOF.
func TestReadEdges(t *testing.T) {
	hello := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	r := NewReader(true)
	if n, err := r.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Errorf("Read before Reset = %d, %v; want an error", n, err)
	}
	// An empty Read returns at once, even when src would fail.
	r.Reset(iotest.ErrReader(errors.New("src read")))
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
	if got, err := inflateAll(r, bytes.NewReader(hello), 100); err != nil || string(got) != "Hello" {
		t.Fatalf("message: %q, %v", got, err)
	}
	for range 2 {
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)
		}
	}
}

// eofReader returns io.EOF with its last bytes, as io.Reader allows,
// rather than on the call after them.
type eofReader struct{ *bytes.Reader }

func (r eofReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == nil && r.Len() == 0 {
		err = io.EOF
	}
	return n, err
}

// TestSrcEOFWithData reads payloads whose last read brings io.EOF with
// it, of lengths around the read buffer's size and twice that, so that
// the last read may fill the buffer: the 00 00 ff ff put back after the
// payload (RFC 7692 section 7.2.2) must still fit, and the last block
// header is then read from the buffer's very end.
func TestSrcEOFWithData(t *testing.T) {
	// A fixed block with "a", then the sync flush's block header.
	a := new(bitWriter).bits(0, 1).bits(1, 2).fixedLitCode('a').fixedLitCode(256).bits(0, 3).bytes()
	for _, size := range []int{inSize, 2 * inSize} {
		for n := size - 24; n <= size; n++ {
			msg := randomData(n, uint64(n))
			z := append(stored(false, msg), a...)
			got, err := inflateAll(NewReader(false), eofReader{bytes.NewReader(z)}, 4096)
			if err != nil || !bytes.Equal(got, append(msg, 'a')) {
				t.Fatalf("payload of %d bytes: %d bytes, %v; want %d", len(z), len(got), err, n+1)
			}
		}
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// TestSrcInvalidCount checks that a src claiming to have read more than
// it was given, or a negative count, gives an error, not a panic.
func TestSrcInvalidCount(t *testing.T) {
	for _, extra := range []int{1, -1} {
		src := readFunc(func(p []byte) (int, error) {
			if extra < 0 {
				return extra, nil
			}
			return len(p) + extra, nil
		})
		if _, err := inflateAll(NewReader(false), src, 100); err == nil || err == io.EOF {
			t.Errorf("count off by %d: %v; want an error", extra, err)
		}
	}
}
