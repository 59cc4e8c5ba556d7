package deflate

import "encoding/binary"

// bitWriter appends a DEFLATE bit stream to out, least significant bit
// first (RFC 1951 section 3.1.1). Fewer than 32 bits wait in bits between
// calls, so one put of up to 32 bits never overflows the word.
type bitWriter struct {
	out   []byte
	bits  uint64
	nbits uint
}

func (w *bitWriter) put(v uint64, n uint) {
	w.bits |= v << w.nbits
	w.nbits += n
	if w.nbits >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.bits))
		w.bits >>= 32
		w.nbits -= 32
	}
}

// flushBytes writes out the waiting bits that make whole bytes, leaving
// fewer than 8 in bits.
func (w *bitWriter) flushBytes() {
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= 8
	}
}

// align pads with zero bits to a byte boundary and writes out every
// waiting bit.
func (w *bitWriter) align() {
	for w.nbits > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= min(w.nbits, 8)
	}
	w.bits = 0
}
