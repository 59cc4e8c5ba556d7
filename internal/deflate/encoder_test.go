package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// syncTail is what RFC 7692 section 7.2.1 removes from each message.
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// finalBlock ends a stream for compress/flate: an empty stored block with
// BFINAL set.
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decodes one message payload with compress/flate, given the
// bytes before it as its dictionary. compress/flate rejects a distance
// beyond its dictionary, so passing only the window's worth of history
// also checks that no match reaches further.
func inflate(t testing.TB, history, z []byte) []byte {
	t.Helper()
	in := bytes.Join([][]byte{z, syncTail, finalBlock}, nil)
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), history))
	if err != nil {
		t.Fatalf("inflate (%d bytes of history): %v", len(history), err)
	}
	return out
}

// compress compresses m as one message written in random pieces.
func compress(e *Encoder, m []byte, r *rand.Rand) []byte {
	var z []byte
	for rest := m; len(rest) > 0; {
		k := len(rest)
		if r != nil {
			k = min(k, 1+r.IntN(3000))
		}
		z = e.Write(z, rest[:k])
		rest = rest[k:]
	}
	return e.Flush(z)
}

func jsonMessages(n, size int, r *rand.Rand) [][]byte {
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	msgs := make([][]byte, n)
	for i := range msgs {
		b := []byte(`{"events":[`)
		for j := 0; len(b) < size-60; j++ {
			b = fmt.Appendf(b, `{"id":%d,"user":%q,"ts":%d,"ok":%t},`,
				r.IntN(1e6), users[r.IntN(len(users))], 1764000000000+r.Int64N(1e6), r.IntN(2) == 0)
		}
		msgs[i] = fmt.Appendf(b, `{}],"seq":%d}`, i)
	}
	return msgs
}

// corpus is a mix of what messages carry: text, JSON, binary noise, long
// runs, and the lengths around the matcher's edges.
func corpus() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 100_000)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 3000)
	msgs := [][]byte{nil, {'a'}, []byte("abc"), []byte("abcd"), []byte("abcdabcd"), []byte("abcdabcdabcdabcdx")}
	for _, n := range []int{7, 8, 9, 15, 16, 17, 258, 259, 300} {
		msgs = append(msgs, bytes.Repeat([]byte{'z'}, n), noise[:n])
	}
	msgs = append(msgs, jsonMessages(40, 1024, r)...)
	msgs = append(msgs, text, noise, make([]byte, 1<<20), bytes.Repeat([]byte("ab"), 70_000))
	msgs = append(msgs, jsonMessages(5, 20_000, r)...)
	// Data repeating at the window's edge: 256 and 32 KiB back.
	msgs = append(msgs, bytes.Repeat(noise[:256], 20), bytes.Repeat(noise[:MaxWindow], 3))
	return msgs
}

// TestRoundTrip compresses the corpus as a stream of messages, for each
// window and with and without context takeover, and inflates every
// message with compress/flate from nothing but the window's worth of the
// bytes before it (or nothing, without takeover).
func TestRoundTrip(t *testing.T) {
	msgs := corpus()
	for _, window := range []int{1, 100, 1 << 8, 1 << 10, 1 << 13, MaxWindow} {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("window=%d/takeover=%t", window, keep), func(t *testing.T) {
				r := rand.New(rand.NewPCG(3, uint64(window)))
				e := NewEncoder(window, keep)
				var sent []byte
				for i, m := range msgs {
					var z []byte
					if i%2 == 0 {
						z = compress(e, m, r)
					} else {
						z = compress(e, m, nil)
					}
					var history []byte
					if keep {
						history = sent[max(0, len(sent)-window):]
					}
					if got := inflate(t, history, z); !bytes.Equal(got, m) {
						t.Fatalf("message %d (%d bytes): round trip differs", i, len(m))
					}
					sent = append(sent, m...)
				}
			})
		}
	}
}

// TestTakeoverUsesHistory checks that context takeover is used: a message
// repeating the one before it compresses to a few bytes.
func TestTakeoverUsesHistory(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	m := jsonMessages(1, 4000, r)[0]
	e := NewEncoder(MaxWindow, true)
	first := len(compress(e, m, nil))
	again := compress(e, m, nil)
	if len(again) > 64 {
		t.Errorf("the same %d-byte message again: %d bytes (first time %d)", len(m), len(again), first)
	}
	if got := inflate(t, m, again); !bytes.Equal(got, m) {
		t.Fatal("round trip differs")
	}
	e.Reset()
	if z := compress(e, m, nil); len(z) < first*9/10 {
		t.Errorf("after Reset: %d bytes, want about %d: the window was not forgotten", len(z), first)
	}
	if got := inflate(t, nil, compress(NewEncoder(MaxWindow, false), m, nil)); !bytes.Equal(got, m) {
		t.Fatal("round trip without takeover differs")
	}
}

// TestEmptyMessage checks RFC 7692 section 7.2.3.6: an empty message is
// the single byte 0x00.
func TestEmptyMessage(t *testing.T) {
	for _, keep := range []bool{true, false} {
		e := NewEncoder(MaxWindow, keep)
		if z := e.Flush(nil); !bytes.Equal(z, []byte{0}) {
			t.Errorf("takeover %t: empty message is % x, want 00", keep, z)
		}
	}
}

// TestCompressesLikeBestSpeed checks the ratio against compress/flate's
// BestSpeed, the level the Encoder stands in for, on JSON messages and on
// text, with and without context takeover.
func TestCompressesLikeBestSpeed(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	sets := map[string][][]byte{
		"json 300 B": jsonMessages(200, 300, r),
		"json 4 KiB": jsonMessages(50, 4096, r),
		"text":       {bytes.Repeat([]byte("It was the best of times, it was the worst of times; "), 2000)},
	}
	for name, msgs := range sets {
		for _, keep := range []bool{true, false} {
			e := NewEncoder(MaxWindow, keep)
			fw, _ := flate.NewWriter(nil, flate.BestSpeed)
			var ours, theirs int
			for _, m := range msgs {
				ours += len(compress(e, m, nil))
				var z bytes.Buffer
				if !keep {
					fw, _ = flate.NewWriter(nil, flate.BestSpeed)
				}
				fw.Reset(&z)
				fw.Write(m)
				fw.Flush()
				theirs += z.Len() - 4
			}
			t.Logf("%s, takeover %t: %d bytes, flate.BestSpeed %d", name, keep, ours, theirs)
			if ours > theirs*11/10 {
				t.Errorf("%s, takeover %t: %d bytes, more than 1.1x flate.BestSpeed's %d", name, keep, ours, theirs)
			}
		}
	}
}

// TestIncompressible checks that random bytes go out stored (RFC 1951
// section 3.2.4) rather than grow under Huffman coding: 5 bytes of
// header per block, a block ending at maxBlockTokens bytes or where the
// input buffer slides (every slack bytes or so), for messages
// gathered whole and for messages longer than the input buffer, written
// at once and in pieces, in every window.
func TestIncompressible(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	noise := make([]byte, 300_000)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	for _, window := range []int{1 << 9, 1 << 12, MaxWindow} {
		for _, keep := range []bool{true, false} {
			e := NewEncoder(window, keep)
			var sent []byte
			for _, n := range []int{100, 1200, 20_000, 300_000} {
				for _, pieces := range []*rand.Rand{nil, r} {
					m := noise[:n]
					z := compress(e, m, pieces)
					chunk := maxBlockTokens
					if keep {
						slack := min(keptSlack, max(window, minSlack))
						chunk = min(chunk, slack-maxMatch-8)
					}
					limit := n + 5*(n/chunk+2) + 1
					if len(z) > limit {
						t.Errorf("window %d, takeover %t: %d random bytes took %d, more than %d", window, keep, n, len(z), limit)
					}
					var history []byte
					if keep {
						history = sent[max(0, len(sent)-window):]
					}
					if got := inflate(t, history, z); !bytes.Equal(got, m) {
						t.Fatalf("window %d, takeover %t, %d bytes: round trip differs", window, keep, n)
					}
					sent = append(sent, m...)
				}
			}
			e.Reset()
		}
	}
}
