package frame

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// maskBytes is Mask one byte at a time: the reference the fast versions are
// tested against.
func maskBytes(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// kernel is a block masker behind maskVector: given at least 64 bytes, it
// masks all but fewer than block bytes at the start of b and returns how
// many.
type kernel struct {
	name  string
	block int
	fn    func(b []byte, k uint64) int
}

// kernels lists the block maskers to check against maskBytes; assembly
// versions add themselves in architecture-specific test files.
var kernels = []kernel{{"go", 64, maskBlocks}}

// guarded returns a slice of n random bytes at offset off within a larger
// buffer whose surrounding bytes let a test catch writes out of bounds.
// The slice's capacity ends with it, so that a Go kernel reslicing past
// len(b) panics instead of silently reaching into the guard.
func guarded(r *rand.Rand, off, n int) (buf, b []byte) {
	buf = make([]byte, off+n+64)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	return buf, buf[off : off+n : off+n]
}

func randKey(r *rand.Rand) (k [4]byte) {
	for i := range k {
		k[i] = byte(r.Uint32())
	}
	return k
}

func TestMask(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		for pos := 0; pos < 4; pos++ {
			for off := 0; off < 32; off++ {
				key := randKey(r)
				buf, b := guarded(r, off, n)
				want := bytes.Clone(buf)
				maskBytes(key, pos, want[off:off+n])
				next := Mask(key, pos, b)
				if !bytes.Equal(buf, want) {
					t.Fatalf("n=%d pos=%d off=%d key=%x: Mask differs from maskBytes", n, pos, off, key)
				}
				if wantNext := (pos + n) % 4; next != wantNext {
					t.Fatalf("n=%d pos=%d: Mask returned %d, want %d", n, pos, next, wantNext)
				}
			}
		}
	}
}

func TestMaskLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{4095, 4096, 65536 + 13, 1<<20 + 7} {
		for off := range 32 {
			key := randKey(r)
			buf, b := guarded(r, off, n)
			want := bytes.Clone(buf)
			maskBytes(key, off&3, want[off:off+n])
			Mask(key, off&3, b)
			if !bytes.Equal(buf, want) {
				t.Fatalf("n=%d off=%d: Mask differs from maskBytes", n, off)
			}
		}
	}
}

// TestMaskPieces checks that masking a payload in pieces, passing the
// returned offset on, equals masking it whole.
func TestMaskPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		key := randKey(r)
		_, b := guarded(r, 0, r.IntN(1000))
		want := bytes.Clone(b)
		maskBytes(key, 0, want)
		pos, rest := 0, b
		for len(rest) > 0 {
			i := r.IntN(len(rest) + 1)
			pos = Mask(key, pos, rest[:i])
			rest = rest[i:]
		}
		if !bytes.Equal(b, want) {
			t.Fatalf("len %d: masking in pieces differs from masking whole", len(b))
		}
	}
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kn := range kernels {
		for n := 64; n <= 400; n++ {
			for pos := 0; pos < 4; pos++ {
				off := r.IntN(64)
				key := randKey(r)
				buf, b := guarded(r, off, n)
				orig := bytes.Clone(buf)
				done := kn.fn(b, wordKey(key, pos))
				if done > n || n-done >= kn.block {
					t.Fatalf("%s n=%d: masked %d bytes, want all but fewer than %d", kn.name, n, done, kn.block)
				}
				want := orig
				maskBytes(key, pos, want[off:off+done])
				if !bytes.Equal(buf, want) {
					t.Fatalf("%s n=%d pos=%d off=%d: differs from maskBytes", kn.name, n, pos, off)
				}
			}
		}
	}
}

// FuzzMask checks Mask against maskBytes on any data, key, starting
// offset and split point, so the vector kernels meet odd lengths and
// alignments.
func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), uint8(0), uint8(0), uint16(0))
	f.Add(make([]byte, 300), uint32(0x12345678), uint8(3), uint8(5), uint16(77))
	f.Add(make([]byte, 1000), uint32(0xffffffff), uint8(1), uint8(31), uint16(500))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos, off uint8, split uint16) {
		key := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		o := int(off) % (len(data) + 1)
		got, want := bytes.Clone(data), bytes.Clone(data)
		b := got[o:]
		i := int(split) % (len(b) + 1)
		next := Mask(key, Mask(key, int(pos&3), b[:i]), b[i:])
		maskBytes(key, int(pos&3), want[o:])
		if !bytes.Equal(got, want) {
			t.Fatalf("Mask differs from maskBytes: len %d, offset %d, split %d", len(data), o, i)
		}
		if want := (int(pos&3) + len(b)) % 4; next != want {
			t.Fatalf("Mask returned offset %d, want %d", next, want)
		}
	})
}

var benchSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
	}
}

// BenchmarkMaskUnaligned masks a slice starting one byte into its buffer,
// as a payload after a frame header usually does.
func BenchmarkMaskUnaligned(b *testing.B) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, n+1)[1:]
			b.SetBytes(int64(n))
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
	}
}

// BenchmarkCopy is memmove of the same sizes, a yardstick for Mask: both
// read and write every byte once.
func BenchmarkCopy(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			src, dst := make([]byte, n), make([]byte, n)
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}
