package frame

// Mask XORs b in place with the masking key (RFC 6455 section 5.3), starting
// at key offset pos (0..3), and returns the offset for the byte after b, so
// a payload can be masked in pieces.
//
// This byte-at-a-time version is the reference; faster versions must agree
// with it.
func Mask(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}
