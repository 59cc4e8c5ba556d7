package flatebench

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kpflate "github.com/klauspost/compress/flate"

	"github.com/starling-ws/starling/internal/deflate"
	"github.com/starling-ws/starling/internal/inflate"

	"github.com/starling-ws/starling/internal/testio"
)

// A second, independent DEFLATE implementation checks Starling's own
// codec from both sides: klauspost/compress makes blocks, Huffman tables
// and match patterns that compress/flate never does, so its output tests
// internal/inflate on streams the in-module tests cannot make, and its
// reader decodes internal/deflate's output without sharing
// compress/flate's leniencies.

var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// diffMessages is a mix of what a connection carries, in random order.
func diffMessages(r *rand.Rand, n int) [][]byte {
	msgs := jsonMessages(8, 1024)
	for range n {
		size := r.IntN(4000)
		if r.IntN(6) == 0 {
			size = r.IntN(150_000)
		}
		m := make([]byte, size)
		switch r.IntN(4) {
		case 0:
			for i := range m {
				m[i] = byte(r.Uint32())
			}
		case 1:
			for i := range m {
				m[i] = byte('a' + i/(1+r.IntN(300))%3)
			}
		case 2:
			// Repeats at every distance, up to the whole window.
			for i := range m {
				if d := 1 + r.IntN(1<<15); i >= d && r.IntN(50) != 0 {
					m[i] = m[i-d]
				} else {
					m[i] = byte(r.Uint32())
				}
			}
		default:
			m = bytes.Join(jsonMessages(1+size/1024, 1024), nil)
		}
		msgs = append(msgs, m)
	}
	r.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	return msgs
}

func inflateMessage(r *inflate.Reader, z []byte, rnd *rand.Rand) ([]byte, error) {
	r.Reset(&testio.ChoppyReader{B: z, R: rnd})
	var out []byte
	p := make([]byte, 1+rnd.IntN(40_000))
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

// TestKlauspostToInflate compresses streams of messages with
// klauspost/compress at every level, with context takeover (one writer)
// and without (a writer reset for every message), flushing inside
// messages now and then, and inflates every message with
// internal/inflate.
func TestKlauspostToInflate(t *testing.T) {
	for level := kpflate.HuffmanOnly; level <= kpflate.BestCompression; level++ {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("level=%d/takeover=%t", level, keep), func(t *testing.T) {
				rnd := rand.New(rand.NewPCG(uint64(level+3), 5))
				var buf bytes.Buffer
				fw, err := kpflate.NewWriter(&buf, level)
				if err != nil {
					t.Fatal(err)
				}
				r := inflate.NewReader(keep)
				for i, m := range diffMessages(rnd, 30) {
					if !keep {
						fw.Reset(&buf)
					}
					buf.Reset()
					for rest := m; len(rest) > 0; {
						k := min(len(rest), 1+rnd.IntN(30_000))
						fw.Write(rest[:k])
						rest = rest[k:]
						if rnd.IntN(5) == 0 {
							fw.Flush()
						}
					}
					if err := fw.Flush(); err != nil {
						t.Fatal(err)
					}
					z := buf.Bytes()
					if !bytes.HasSuffix(z, syncTail) {
						t.Fatalf("message %d: flush did not end in 00 00 ff ff", i)
					}
					got, err := inflateMessage(r, z[:len(z)-len(syncTail)], rnd)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("message %d (%d bytes): got %d bytes, %v", i, len(m), len(got), err)
					}
				}
			})
		}
	}
}

// TestEncoderToKlauspost compresses streams of messages with
// internal/deflate, for every window RFC 7692 negotiates, and inflates
// every message with klauspost/compress's reader, given only the window's
// worth of the messages before it (or nothing without context takeover).
func TestEncoderToKlauspost(t *testing.T) {
	for bits := 8; bits <= 15; bits++ {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("bits=%d/takeover=%t", bits, keep), func(t *testing.T) {
				window := 1 << bits
				rnd := rand.New(rand.NewPCG(uint64(bits), 6))
				e := deflate.NewEncoder(window, keep)
				var sent []byte
				for i, m := range diffMessages(rnd, 20) {
					var z []byte
					for rest := m; len(rest) > 0; {
						k := min(len(rest), 1+rnd.IntN(50_000))
						z = e.Write(z, rest[:k])
						rest = rest[k:]
					}
					z = e.Flush(z)
					var history []byte
					if keep {
						history = sent[max(0, len(sent)-window):]
					}
					in := bytes.Join([][]byte{z, syncTail, {0x01, 0x00, 0x00, 0xff, 0xff}}, nil)
					got, err := io.ReadAll(kpflate.NewReaderDict(bytes.NewReader(in), history))
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("message %d (%d bytes): got %d bytes, %v", i, len(m), len(got), err)
					}
					sent = append(sent[max(0, len(sent)-1<<15):], m...)
				}
			})
		}
	}
}
