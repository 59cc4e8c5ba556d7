package wsflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/starling-ws/starling/internal/testio"
)

// streamMessages returns n messages of mixed compressibility: JSON,
// noise, runs, and data repeating 5000 bytes back, some larger than the
// Compressor's 32 KiB encoding chunk.
func streamMessages(r *rand.Rand, n int) [][]byte {
	msgs := [][]byte{nil, []byte("x")}
	for i := range n {
		size := r.IntN(3000)
		if i%5 == 0 {
			size = r.IntN(100_000)
		}
		m := make([]byte, size)
		switch r.IntN(4) {
		case 0:
			m = bytes.Join(jsonMessages(1+size/1024, 1024), nil)
		case 1:
			for j := range m {
				m[j] = byte(r.Uint32())
			}
		case 2:
			for j := range m {
				m[j] = byte('a' + j/(1+r.IntN(100))%4)
			}
		default:
			for j := range m {
				if j >= 5000 {
					m[j] = m[j-5000]
				} else {
					m[j] = byte(r.Uint32())
				}
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// TestCompressorStreams sends streams of messages through a Compressor at
// every level, window, mode and history, written in random pieces, with
// the window sometimes dropped by Close: each message must inflate with
// the peer's Decompressor, and trace back with only as much history as
// the Compressor promised to refer to, no back-reference reaching past
// the negotiated window (RFC 7692 section 7.1.2).
func TestCompressorStreams(t *testing.T) {
	n := 0
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
			n++
			noContext := n%3 == 0
			history := []int{0, 100, 5000, 1 << 15}[n%4]
			name := fmt.Sprintf("level=%d/bits=%d/noContext=%t/history=%d", level, bits, noContext, history)
			t.Run(name, func(t *testing.T) {
				checkCompressorStream(t, level, bits, noContext, history, uint64(n))
			})
		}
	}
}

func checkCompressorStream(t *testing.T, level, bits int, noContext bool, history int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 3))
	c, err := NewCompressor(level, noContext, bits)
	if err != nil {
		t.Fatal(err)
	}
	c.LimitHistory(history)
	d := NewDecompressor(noContext)
	reach := 1 << bits // how far back into earlier messages references may go
	if history > 0 {
		reach = min(reach, history)
	}
	var sent []byte
	for i, m := range streamMessages(r, 16) {
		if r.IntN(10) == 0 {
			c.Close()
			sent = nil
		}
		z := compressPieces(t, c, m, r)
		if got := inflate(t, d, z); got != string(m) {
			t.Fatalf("message %d (%d bytes): round trip differs", i, len(m))
		}
		var h []byte
		if !noContext {
			h = lastBytes(sent, reach)
		}
		out, maxDist, err := traceInflate(h, z)
		if err != nil || !bytes.Equal(out[len(h):], m) {
			t.Fatalf("message %d (%d bytes) after only %d bytes of history: %v", i, len(m), len(h), err)
		}
		if maxDist > 1<<bits {
			t.Fatalf("message %d: distance %d beyond the window of %d", i, maxDist, 1<<bits)
		}
		sent = append(lastBytes(sent, 1<<15), m...)
	}
}

// TestLimitExact reads messages with limits around their size, the
// payload arriving in random pieces and read into buffers of random
// sizes: a message of at most the limit must come back whole, and a
// larger one must fail with ErrTooLarge having returned exactly the
// limit's worth of its bytes, no more. With context takeover the
// messages after one that fitted still refer to it.
func TestLimitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, noContext := range []bool{false, true} {
		c, _ := NewCompressor(flate.BestSpeed, noContext, 15)
		d := NewDecompressor(noContext)
		for i, m := range streamMessages(r, 60) {
			z := c.Append(nil, m)
			limit := int64(len(m)) + int64(r.IntN(3)) - 1
			if i%7 == 0 {
				limit = int64(r.IntN(len(m) + 1))
			}
			d.Reset(&testio.ChoppyReader{B: z, R: r}, limit)
			var got []byte
			var err error
			for err == nil {
				p := make([]byte, 1+r.IntN(5000))
				var n int
				n, err = d.Read(p)
				got = append(got, p[:n]...)
			}
			fits := int64(len(m)) <= limit
			switch {
			case fits && (err != io.EOF || !bytes.Equal(got, m)):
				t.Fatalf("message %d (%d bytes), limit %d: %d bytes, %v", i, len(m), limit, len(got), err)
			case !fits && (!errors.Is(err, ErrTooLarge) || int64(len(got)) != limit || !bytes.Equal(got, m[:limit])):
				t.Fatalf("message %d (%d bytes), limit %d: %d bytes, %v; want the first %d and ErrTooLarge", i, len(m), limit, len(got), err, limit)
			}
			if !fits && !noContext {
				// The peer's window now holds the whole message, ours
				// not: a real connection fails here (1009).
				c.Close()
				d.Close()
			}
		}
	}
}
