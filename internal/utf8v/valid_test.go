package utf8v

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// edgeBytes includes every boundary of the ranges in Unicode table 3-7.
var edgeBytes = []byte{
	0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
	0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
}

// testInputs returns hand-picked and random inputs, valid and invalid.
func testInputs() [][]byte {
	ins := [][]byte{
		nil,
		[]byte("plain ASCII text long enough for the word-at-a-time path ....."),
		[]byte("Hello, мир! 你好世界 😀 — κόσμε"),
		[]byte("\xed\x9f\xbf"), []byte("\xed\xa0\x80"), []byte("\xee\x80\x80"), // around surrogates
		[]byte("\xf4\x8f\xbf\xbf"), []byte("\xf4\x90\x80\x80"), // around U+10FFFF
		[]byte("\xe0\x9f\xbf"), []byte("\xe0\xa0\x80"), // overlong 3-byte
		[]byte("\xf0\x8f\xbf\xbf"), []byte("\xf0\x90\x80\x80"), // overlong 4-byte
		[]byte("\xc0\x80"), []byte("\xc1\xbf"), []byte("\xc2\x80"), []byte("\xf5\x80\x80\x80"),
	}
	r := rand.New(rand.NewPCG(1, 1))
	pieces := []string{"a", "é", "€", "😀", "\U0010FFFF", "\uFFFD", "\x80", "\xff", "\xed\xa0", "\xf4\x90", "\xe0"}
	for range 3000 {
		n := r.IntN(80)
		b := make([]byte, 0, n)
		switch r.IntN(3) {
		case 0: // random bytes
			for range n {
				b = append(b, byte(r.Uint32()))
			}
		case 1: // random edge bytes
			for range n {
				b = append(b, edgeBytes[r.IntN(len(edgeBytes))])
			}
		default: // characters with some invalid pieces, long ASCII runs
			for len(b) < n {
				if r.IntN(4) == 0 {
					b = append(b, strings.Repeat("x", r.IntN(40))...)
				}
				b = append(b, pieces[r.IntN(len(pieces))]...)
			}
		}
		ins = append(ins, b)
	}
	return ins
}

func TestValid(t *testing.T) {
	for _, in := range testInputs() {
		if got, want := Valid(in), utf8.Valid(in); got != want {
			t.Errorf("Valid(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestValidExhaustive compares with unicode/utf8 on every 1- and 2-byte
// input and every 3-byte input whose first byte is not ASCII.
func TestValidExhaustive(t *testing.T) {
	b := make([]byte, 3)
	for i := range 1 << 16 {
		b[0], b[1] = byte(i>>8), byte(i)
		if Valid(b[:2]) != utf8.Valid(b[:2]) {
			t.Fatalf("Valid(% x) differs from unicode/utf8", b[:2])
		}
	}
	for i := 0x80 << 16; i < 1<<24; i++ {
		b[0], b[1], b[2] = byte(i>>16), byte(i>>8), byte(i)
		if Valid(b) != utf8.Valid(b) {
			t.Fatalf("Valid(% x) differs from unicode/utf8", b)
		}
	}
}

// TestValidEdgesLong places every 3-byte combination of edge bytes after
// ASCII runs of every length around the word-at-a-time paths, and every
// 4-byte combination after a few.
func TestValidEdgesLong(t *testing.T) {
	n := len(edgeBytes)
	for pre := range 80 {
		for _, size := range []int{3, 4} {
			if size == 4 && pre != 0 && pre != 5 && pre != 8 && pre != 64 {
				continue
			}
			b := []byte(strings.Repeat("a", pre) + "...."[:size])
			combos := 1
			for range size {
				combos *= n
			}
			for i := range combos {
				for k, j := 0, i; k < size; k, j = k+1, j/n {
					b[pre+k] = edgeBytes[j%n]
				}
				if Valid(b) != utf8.Valid(b) {
					t.Fatalf("Valid(%q) differs from unicode/utf8", b)
				}
			}
		}
	}
}

var benchText = map[string]string{
	"ascii": "The quick brown fox jumps over the lazy dog; {\"id\": 12345, \"ok\": true}\n",
	"mixed": "Hello, мир! Grüße aus Köln. 你好，世界。 Emoji 😀👍 and ASCII between. ",
}

func benchInput(kind string, n int) []byte {
	return []byte(strings.ToValidUTF8(strings.Repeat(benchText[kind], n/len(benchText[kind])+1)[:n], ""))
}

func benchValid(b *testing.B, valid func([]byte) bool) {
	for _, kind := range []string{"ascii", "mixed"} {
		for _, n := range []int{1 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", kind, n>>10), func(b *testing.B) {
				p := benchInput(kind, n)
				b.SetBytes(int64(len(p)))
				for b.Loop() {
					if !valid(p) {
						b.Fatal("invalid")
					}
				}
			})
		}
	}
}

func BenchmarkValid(b *testing.B) { benchValid(b, Valid) }

// BenchmarkStdlibValid is the yardstick for BenchmarkValid.
func BenchmarkStdlibValid(b *testing.B) { benchValid(b, utf8.Valid) }

// BenchmarkValidator writes each input in 1500-byte pieces, as if each
// were a frame, so that sequences are split between writes.
func BenchmarkValidator(b *testing.B) {
	benchValid(b, func(p []byte) bool {
		var v Validator
		for len(p) > 1500 {
			v.Write(p[:1500])
			p = p[1500:]
		}
		v.Write(p)
		return v.Complete()
	})
}

// TestASCIIBlocks checks the ASCII kernel (assembly on amd64) against the
// pure-Go one and a byte-at-a-time count, for every length to 300 with one
// non-ASCII byte at every position, on unaligned slices.
func TestASCIIBlocks(t *testing.T) {
	buf := make([]byte, 300+16)
	for i := range buf {
		buf[i] = byte(i % 128)
	}
	for off := range 16 {
		for n := 0; n+off <= len(buf); n++ {
			for hi := -1; hi < n; hi++ {
				p := buf[off : off+n : off+n] // no spare capacity to reslice into
				if hi >= 0 {
					p[hi] |= 0x80
				}
				want := n &^ 63
				if hi >= 0 && hi < want {
					want = hi &^ 63
				}
				if got, gotGo := asciiBlocks(p), asciiBlocksGo(p); got != want || gotGo != want {
					t.Fatalf("off %d, len %d, non-ASCII at %d: asciiBlocks = %d, asciiBlocksGo = %d, want %d", off, n, hi, got, gotGo, want)
				}
				if hi >= 0 {
					p[hi] &^= 0x80
				}
			}
		}
	}
}
