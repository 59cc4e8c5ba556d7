package mask

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gobwas/ws"
	"github.com/starling-ws/starling/internal/frame"
)

var key = [4]byte{0x12, 0x34, 0x56, 0x78}

var sizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

// TestSameResult checks that the two maskers agree, at every offset into
// the key, so the benchmarks compare equal work.
func TestSameResult(t *testing.T) {
	for _, n := range []int{0, 1, 3, 7, 15, 16, 31, 64, 1000, 4099} {
		for pos := range 4 {
			a, b := make([]byte, n), make([]byte, n)
			for i := range a {
				a[i], b[i] = byte(i*7), byte(i*7)
			}
			frame.Mask(key, pos, a)
			ws.Cipher(b, key, pos)
			if !bytes.Equal(a, b) {
				t.Fatalf("n=%d pos=%d: frame.Mask and ws.Cipher differ", n, pos)
			}
		}
	}
}

func bench(b *testing.B, f func(dst, src []byte)) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src, dst := make([]byte, n), make([]byte, n)
			b.SetBytes(int64(n))
			for b.Loop() {
				f(dst, src)
			}
		})
	}
}

func BenchmarkStarling(b *testing.B) {
	bench(b, func(dst, _ []byte) { frame.Mask(key, 0, dst) })
}

func BenchmarkGobwasCipher(b *testing.B) {
	bench(b, func(dst, _ []byte) { ws.Cipher(dst, key, 0) })
}

func BenchmarkCopy(b *testing.B) {
	bench(b, func(dst, src []byte) { copy(dst, src) })
}
