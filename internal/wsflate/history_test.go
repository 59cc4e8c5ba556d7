package wsflate

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

// compressPieces compresses m as one message, written in random pieces as
// the Conn's streaming writer does.
func compressPieces(t testing.TB, c *Compressor, m []byte, r *rand.Rand) []byte {
	t.Helper()
	var z bytes.Buffer
	c.Reset(&z)
	for rest := m; len(rest) > 0; {
		k := min(len(rest), 1+r.IntN(700))
		if _, err := c.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// lastBytes returns the last n bytes of b, or all of it.
func lastBytes(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// TestLimitedHistory checks a takeover Compressor that keeps only a
// history: every message inflates with the peer's full window, and also
// with nothing before it but the last history bytes sent, so no
// back-reference reaches further. After Close, which starts an empty
// window, the next message must refer to nothing before it.
func TestLimitedHistory(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	msgs := append(jsonMessages(30, 1024), nil, []byte("x"), bytes.Repeat([]byte("ab"), 40000))
	msgs = append(msgs, jsonMessages(10, 300)...)
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
		for _, history := range []int{1, 100, 4096, 1 << 15} {
			c, _ := NewCompressor(level, false, 15)
			c.LimitHistory(history)
			d := NewDecompressor(false)
			var sent []byte // everything the peer's window has seen
			for j, m := range msgs {
				if j == 20 {
					c.Close()
					sent = sent[:0]
				}
				z := compressPieces(t, c, m, r)
				if got := inflate(t, d, z); got != string(m) {
					t.Fatalf("level %d, history %d, message %d: round trip differs", level, history, j)
				}
				h := lastBytes(sent, history)
				out, _, err := traceInflate(h, z)
				if err != nil || !bytes.Equal(out[len(h):], m) {
					t.Fatalf("level %d, history %d, message %d: with only the last %d bytes before it: %v", level, history, j, len(h), err)
				}
				sent = append(sent, m...)
			}
			if c.fw != nil {
				t.Errorf("level %d, history %d: a flate.Writer is kept between messages", level, history)
			}
			if cap(c.hist) > history {
				t.Errorf("level %d, history %d: history buffer of %d bytes", level, history, cap(c.hist))
			}
			if c.enc != nil && c.enc.Window() > history {
				t.Errorf("level %d, history %d: the encoder's window is %d bytes", level, history, c.enc.Window())
			}
		}
	}
}

// TestLimitedHistoryCompresses checks that the history is used: chatty
// JSON compresses better with a 4 KiB history than with no context.
func TestLimitedHistoryCompresses(t *testing.T) {
	msgs := jsonMessages(100, 300)
	size := func(noContext bool, history int) int {
		c, _ := NewCompressor(flate.BestSpeed, noContext, 15)
		c.LimitHistory(history)
		n := 0
		for _, m := range msgs {
			n += len(c.Append(nil, m))
		}
		return n
	}
	limited, none := size(false, 4096), size(true, 0)
	t.Logf("100 x 300 B JSON: %d bytes with a 4 KiB history, %d without context", limited, none)
	if limited >= none*9/10 {
		t.Errorf("a 4 KiB history compresses to %d bytes, not 10%% under %d without context", limited, none)
	}
}

// FuzzLimitedHistory compresses three messages with a limited history and
// checks that each inflates from the last history bytes alone.
func FuzzLimitedHistory(f *testing.F) {
	m := jsonMessages(3, 300)
	f.Add(m[0], m[1], m[2], 1, 64)
	f.Add([]byte("Hello"), []byte("Hello"), []byte("Hello"), 6, 3)
	f.Add(bytes.Repeat([]byte("abc"), 300), []byte{}, []byte("abcabc"), 9, 1000)
	f.Fuzz(func(t *testing.T, a, b, c []byte, level, history int) {
		level = 1 + (level%9+9)%9                       // 1..9: levels with back-references
		history = 1 + (history%(1<<15)+(1<<15))%(1<<15) // 1..32 KiB
		comp, err := NewCompressor(level, false, 15)
		if err != nil {
			t.Fatal(err)
		}
		comp.LimitHistory(history)
		d := NewDecompressor(false)
		var sent []byte
		for _, msg := range [][]byte{a, b, c} {
			z := comp.Append(nil, msg)
			if got := inflate(t, d, z); got != string(msg) {
				t.Fatalf("level %d, history %d: round trip differs", level, history)
			}
			h := lastBytes(sent, history)
			out, _, err := traceInflate(h, z)
			if err != nil || !bytes.Equal(out[len(h):], msg) {
				t.Fatalf("level %d, history %d: from the last %d bytes alone: %v", level, history, len(h), err)
			}
			sent = append(sent, msg...)
		}
	})
}
