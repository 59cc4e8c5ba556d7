package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// tracer is a slow, independent DEFLATE decoder (RFC 1951) that inflates
// one message payload after the bytes before it and checks every
// back-reference against the window: compress/flate, given the window's
// worth of history as its dictionary, catches a reference into earlier
// messages beyond the window, but not one within a message longer than
// the window, which RFC 7692 section 7.1.2 forbids just the same.
type tracer struct {
	in     []byte
	pos    int
	bit    uint
	out    []byte
	window int
}

var errTraceShort = errors.New("trace: input ends early")

// trace inflates payload, as RFC 7692 section 7.2.1 sends it, after
// history and returns the message.
func trace(history, payload []byte, window int) ([]byte, error) {
	in := append(bytes.Clone(payload), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	t := &tracer{in: in, out: bytes.Clone(history), window: window}
	for {
		final, err := t.bits(1)
		if err != nil {
			return nil, err
		}
		kind, err := t.bits(2)
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0:
			err = t.stored()
		case 1:
			err = t.codes(fixedLit.lens, fixedDist.lens)
		case 2:
			var lit, dist []uint8
			if lit, dist, err = t.dynamic(); err == nil {
				err = t.codes(lit, dist)
			}
		default:
			err = errors.New("trace: reserved block type")
		}
		if err != nil {
			return nil, err
		}
		if final == 1 {
			return t.out[len(history):], nil
		}
	}
}

func (t *tracer) bits(n int) (int, error) {
	v := 0
	for i := range n {
		if t.pos >= len(t.in) {
			return 0, errTraceShort
		}
		v |= int(t.in[t.pos]>>t.bit&1) << i
		if t.bit++; t.bit == 8 {
			t.bit, t.pos = 0, t.pos+1
		}
	}
	return v, nil
}

func (t *tracer) stored() error {
	if t.bit != 0 {
		t.bit, t.pos = 0, t.pos+1
	}
	if t.pos+4 > len(t.in) {
		return errTraceShort
	}
	n := int(t.in[t.pos]) | int(t.in[t.pos+1])<<8
	if nn := int(t.in[t.pos+2]) | int(t.in[t.pos+3])<<8; n != ^nn&0xffff {
		return errors.New("trace: stored length mismatch")
	}
	t.pos += 4
	if t.pos+n > len(t.in) {
		return errTraceShort
	}
	t.out = append(t.out, t.in[t.pos:t.pos+n]...)
	t.pos += n
	return nil
}

// canon is a canonical Huffman code (RFC 1951 section 3.2.2): count[l]
// codes of length l, and the symbols in code order.
type canon struct {
	count [16]int
	syms  []int
}

func newCanon(lens []uint8) canon {
	var c canon
	for l := 1; l < 16; l++ {
		for sym, sl := range lens {
			if int(sl) == l {
				c.count[l]++
				c.syms = append(c.syms, sym)
			}
		}
	}
	return c
}

// decode reads one symbol bit by bit: the codes of each length are
// consecutive, after the codes of the length before, doubled.
func (t *tracer) decode(c *canon) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := t.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if code-first < c.count[l] {
			return c.syms[index+code-first], nil
		}
		index += c.count[l]
		first = (first + c.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("trace: no such code")
}

func (t *tracer) dynamic() (lit, dist []uint8, err error) {
	var hdr [3]int
	for i, n := range []int{5, 5, 4} {
		if hdr[i], err = t.bits(n); err != nil {
			return nil, nil, err
		}
	}
	nlit, ndist, ncl := hdr[0]+257, hdr[1]+1, hdr[2]+4
	cl := make([]uint8, numCodeLen)
	for _, sym := range clOrder[:ncl] {
		v, err := t.bits(3)
		if err != nil {
			return nil, nil, err
		}
		cl[sym] = uint8(v)
	}
	clCode := newCanon(cl)
	var lens []uint8
	for len(lens) < nlit+ndist {
		sym, err := t.decode(&clCode)
		if err != nil {
			return nil, nil, err
		}
		rep, v := 1, uint8(sym)
		switch sym {
		case 16:
			if len(lens) == 0 {
				return nil, nil, errors.New("trace: repeat of nothing")
			}
			rep, v = 3, lens[len(lens)-1]
		case 17:
			rep, v = 3, 0
		case 18:
			rep, v = 11, 0
		}
		if sym >= 16 {
			x, err := t.bits(int(clExtra[sym]))
			if err != nil {
				return nil, nil, err
			}
			rep += x
		}
		for range rep {
			lens = append(lens, v)
		}
	}
	if len(lens) != nlit+ndist {
		return nil, nil, errors.New("trace: code lengths overflow")
	}
	return lens[:nlit], lens[nlit:], nil
}

func (t *tracer) codes(litLens, distLens []uint8) error {
	lit, dist := newCanon(litLens), newCanon(distLens)
	for {
		sym, err := t.decode(&lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			t.out = append(t.out, byte(sym))
			continue
		case sym == endOfBlock:
			return nil
		case sym > 285:
			return fmt.Errorf("trace: length symbol %d", sym)
		}
		x, err := t.bits(int(lengthExtra[sym-257]))
		if err != nil {
			return err
		}
		length := 3 + int(lengthBase[sym-257]) + x
		dsym, err := t.decode(&dist)
		if err != nil {
			return err
		}
		if dsym >= numDist {
			return fmt.Errorf("trace: distance symbol %d", dsym)
		}
		if x, err = t.bits(int(distExtra[dsym])); err != nil {
			return err
		}
		d := 1 + int(distBase[dsym]) + x
		if d > t.window {
			return fmt.Errorf("trace: distance %d beyond the window of %d", d, t.window)
		}
		if d > len(t.out) {
			return fmt.Errorf("trace: distance %d before the start (%d bytes)", d, len(t.out))
		}
		for range length {
			t.out = append(t.out, t.out[len(t.out)-d])
		}
	}
}

// mixedMessages returns messages of every kind a connection carries, in
// a random order: JSON, text, noise, long runs, data repeating at the
// distance of each window, and messages much larger than any buffer.
func mixedMessages(r *rand.Rand, n int) [][]byte {
	noise := make([]byte, 200_000)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 4000)
	var msgs [][]byte
	for range n {
		size := 1 + r.IntN(3000)
		if r.IntN(8) == 0 {
			size = 1 + r.IntN(150_000)
		}
		var m []byte
		switch r.IntN(7) {
		case 0:
			m = jsonMessages(1, size, r)[0]
		case 1:
			off := r.IntN(len(text) - size%len(text))
			m = text[off:][:min(size, len(text)-off)]
		case 2:
			m = noise[:size]
		case 3:
			m = bytes.Repeat([]byte{byte(r.Uint32())}, size)
		case 4:
			// A random block repeated at a distance just past or at a
			// window size: the matcher must not take the farther copy.
			period := 1<<(8+r.IntN(8)) + r.IntN(3) - 1
			for len(m) < size+period {
				m = append(m, noise[:period]...)
			}
		case 5:
			m = nil
		default:
			// Mostly noise with repeats of earlier bytes, which makes
			// matches of every length and distance.
			m = append(m, noise[:64]...)
			for len(m) < size {
				if r.IntN(2) == 0 {
					m = append(m, noise[r.IntN(len(noise)-300):][:1+r.IntN(300)]...)
				} else {
					from := r.IntN(len(m))
					k := 3 + r.IntN(400)
					for i := range k {
						m = append(m, m[from+i])
					}
				}
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// writePieces compresses m as one message, written in pieces of random
// sizes from one byte to several times the Encoder's buffers.
func writePieces(e *Encoder, m []byte, r *rand.Rand) []byte {
	var z []byte
	for rest := m; len(rest) > 0; {
		var k int
		switch r.IntN(4) {
		case 0:
			k = 1 + r.IntN(16)
		case 1:
			k = 1 + r.IntN(4096)
		case 2:
			k = 1 + r.IntN(200_000)
		default:
			k = len(rest)
		}
		k = min(k, len(rest))
		z = e.Write(z, rest[:k])
		rest = rest[k:]
	}
	return e.Flush(z)
}

// TestWindowHonoured compresses long streams of mixed messages written in
// random pieces, for every window RFC 7692 negotiates and a few a History
// gives, with and without context takeover, and traces every message:
// it must inflate to itself, and no back-reference may reach farther
// than the window, within the message or into the ones before it.
func TestWindowHonoured(t *testing.T) {
	windows := []int{1, 3, 100, 1000, 4097}
	for bits := 8; bits <= 15; bits++ {
		windows = append(windows, 1<<bits)
	}
	for _, window := range windows {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("window=%d/takeover=%t", window, keep), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(window), 11))
				checkStream(t, NewEncoder(window, keep), window, keep, mixedMessages(r, 40), r)
			})
		}
	}
}

// checkStream sends msgs through e and traces each message after the
// window's worth of the ones before it.
func checkStream(t *testing.T, e *Encoder, window int, keep bool, msgs [][]byte, r *rand.Rand) {
	t.Helper()
	var sent []byte
	for i, m := range msgs {
		z := writePieces(e, m, r)
		var history []byte
		if keep {
			history = sent[max(0, len(sent)-window):]
		}
		got, err := trace(history, z, window)
		if err != nil {
			t.Fatalf("message %d (%d bytes): %v", i, len(m), err)
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes): round trip differs", i, len(m))
		}
		if !bytes.Equal(inflate(t, history, z), m) {
			t.Fatalf("message %d (%d bytes): compress/flate inflates it differently", i, len(m))
		}
		sent = append(sent[max(0, len(sent)-MaxWindow):], m...)
	}
}

// TestStreamPositionWraps starts the stream positions, 32-bit and wrapping
// after 4 GiB of a connection's output, just before the wrap, so that the
// block and slide arithmetic crosses it.
func TestStreamPositionWraps(t *testing.T) {
	for _, window := range []int{1 << 8, 1 << 12, MaxWindow} {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("window=%d/takeover=%t", window, keep), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(window), 12))
				e := NewEncoder(window, keep)
				e.h = &history{base: 1<<32 - 70_000}
				if !keep {
					e.h.buf = make([]byte, 0, MaxWindow+pooledSlack)
				}
				checkStream(t, e, window, keep, mixedMessages(r, 30), r)
			})
		}
	}
}

// TestBufferBoundaries writes pieces of the sizes where the Encoder's
// buffers, blocks and slides change (around the window, the slack, a
// longest match, a block's tokens, a stored block's 65535 bytes), of
// noise, runs, near repeats and copies of earlier messages, into random
// windows, sometimes dropping a message midway with Reset as a
// Compressor does after a failed write; every message must trace back
// within its window.
func TestBufferBoundaries(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 300_000)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	for iter := range 400 {
		windows := []int{1, 2, 255, 256, 257, 2048, 2049, 8191, 8192, 8193, 1 << 15}
		window := windows[r.IntN(len(windows))]
		keep := r.IntN(2) == 0
		e := NewEncoder(window, keep)
		slack := min(keptSlack, max(window, minSlack))
		// Each size is also tried one less and one more.
		sizes := []int{0, 1, 8, maxMatch, maxMatch + 8, window, slack, slack - maxMatch - 8,
			window + slack, pooledSlack, MaxWindow + pooledSlack, maxStored, maxBlockTokens}
		var sent []byte
		for m := 0; m < 6; m++ {
			var msg, z []byte
			for p := 0; p < 1+r.IntN(5); p++ {
				n := max(0, sizes[r.IntN(len(sizes))]+r.IntN(3)-1)
				var piece []byte
				switch r.IntN(4) {
				case 0:
					piece = noise[:n]
				case 1:
					piece = bytes.Repeat([]byte{'q'}, n)
				case 2:
					piece = make([]byte, n)
					for i := range piece {
						if i >= 300 && r.IntN(10) != 0 {
							piece[i] = piece[i-1-r.IntN(300)]
						} else {
							piece[i] = byte(r.Uint32())
						}
					}
				default:
					if len(sent) > 0 {
						k := r.IntN(len(sent))
						piece = sent[k:][:min(n, len(sent)-k)]
					}
				}
				z = e.Write(z, piece)
				msg = append(msg, piece...)
			}
			if r.IntN(6) == 0 {
				e.Reset()
				sent = nil
				continue
			}
			z = e.Flush(z)
			var hist []byte
			if keep {
				hist = sent[max(0, len(sent)-window):]
			}
			got, err := trace(hist, z, window)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("run %d, window %d, takeover %t, message %d (%d bytes): %v", iter, window, keep, m, len(msg), err)
			}
			sent = append(sent, msg...)
			if r.IntN(8) == 0 {
				e.Reset()
				sent = nil
			}
		}
	}
}
