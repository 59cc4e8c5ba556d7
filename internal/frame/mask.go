package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key (RFC 6455 section 5.3), starting
// at key offset pos (0..3), and returns the offset for the byte after b, so
// a payload can be masked in pieces.
func Mask(key [4]byte, pos int, b []byte) int {
	next := (pos + len(b)) & 3
	k := wordKey(key, pos)
	if len(b) >= 64 {
		n := maskVector(b, k)
		b = b[n:]
		k = bits.RotateLeft64(k, -8*(n&3)) // n need not be a multiple of 8
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	if len(b) >= 4 {
		// The key repeats every 4 bytes, so k still lines up after this.
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^uint32(k))
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k >> (8 * i))
	}
	return next
}

// wordKey returns the key rotated so that b[0] lines up with key byte pos,
// repeated to fill a little-endian word: byte i of the word masks b[i] at
// any offset that is a multiple of 8, since 8 is a multiple of the key size.
func wordKey(key [4]byte, pos int) uint64 {
	s := 8 * uint(pos&3)
	k := binary.LittleEndian.Uint32(key[:])
	k = k>>s | k<<(32-s)
	return uint64(k) | uint64(k)<<32
}

// maskBlocks masks b with the word key k in 64-byte blocks and returns the
// number of bytes done. It is the pure-Go kernel behind maskVector.
func maskBlocks(b []byte, k uint64) int {
	n := 0
	for len(b)-n >= 64 {
		xor64(b[n:n+64], k)
		n += 64
	}
	return n
}

// xor64 XORs the 64 bytes of b with k, a word at a time.
func xor64(b []byte, k uint64) {
	_ = b[63]
	binary.LittleEndian.PutUint64(b[0:], binary.LittleEndian.Uint64(b[0:])^k)
	binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k)
	binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k)
	binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k)
	binary.LittleEndian.PutUint64(b[32:], binary.LittleEndian.Uint64(b[32:])^k)
	binary.LittleEndian.PutUint64(b[40:], binary.LittleEndian.Uint64(b[40:])^k)
	binary.LittleEndian.PutUint64(b[48:], binary.LittleEndian.Uint64(b[48:])^k)
	binary.LittleEndian.PutUint64(b[56:], binary.LittleEndian.Uint64(b[56:])^k)
}
