package matrix

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/starling-ws/starling"
)

// Sizes are the message sizes every pair exchanges: the edges of the
// 7-bit, 16-bit and 64-bit length encodings (RFC 6455 section 5.2) and
// messages large enough to span many reads and fragments.
var Sizes = []int{0, 1, 125, 126, 64 << 10, 1 << 20, 16 << 20}

// runes mixes UTF-8 sequences of 1, 2, 3 and 4 bytes.
const runes = "aé€😀"

// payload returns n bytes for a message of type typ: random bytes for
// binary, and for text valid UTF-8 with runes of every length, padded
// with ASCII to exactly n bytes.
func payload(typ starling.MessageType, n int) []byte {
	b := make([]byte, 0, n)
	if typ == starling.MessageBinary {
		r := rand.New(rand.NewPCG(uint64(n), 7))
		for len(b) < n {
			b = append(b, byte(r.Uint32()))
		}
		return b
	}
	for len(b) < n {
		for _, c := range runes {
			if len(b)+utf8.RuneLen(c) > n {
				break
			}
			b = utf8.AppendRune(b, c)
		}
		for len(b) < n && n-len(b) < utf8.UTFMax {
			b = append(b, 'x')
		}
	}
	return b
}

// sizeName names a size for a subtest: "0B", "64KiB", "16MiB".
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// diff describes how got differs from want, without printing megabytes.
func diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return "" // at memory speed, which the loop below is not under -race
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte %d: got %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return ""
}
