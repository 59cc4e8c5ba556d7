package wsflate

import (
	"errors"
	"fmt"
)

// tails is what the receiver appends to a payload for traceInflate: the
// 00 00 ff ff that RFC 7692 section 7.2.2 restores, then an empty stored
// block with BFINAL set, so that the stream ends.
var tails = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// traceInflate is a slow, independent DEFLATE decoder (RFC 1951) used only
// to check what an encoder emitted: it inflates one permessage-deflate
// payload after history and reports the largest back-reference distance,
// which must fit in the negotiated window (RFC 7692 section 7.1.2).
func traceInflate(history, payload []byte) (out []byte, maxDist int, err error) {
	in := append(append([]byte(nil), payload...), tails[:]...)
	r := &bitReader{b: in}
	out = append([]byte(nil), history...)
	for {
		final, err := r.bits(1)
		if err != nil {
			return nil, 0, err
		}
		kind, err := r.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch kind {
		case 0:
			out, err = r.stored(out)
		case 1:
			lit, dist := fixedCodes()
			out, err = r.codes(out, lit, dist, &maxDist)
		case 2:
			var lit, dist huffman
			if lit, dist, err = r.dynamicCodes(); err == nil {
				out, err = r.codes(out, lit, dist, &maxDist)
			}
		default:
			err = errors.New("reserved block type")
		}
		if err != nil {
			return nil, 0, err
		}
		if final == 1 {
			return out, maxDist, nil
		}
	}
}

type bitReader struct {
	b   []byte
	pos int
	bit uint
}

var errShort = errors.New("trace: input ends early")

func (r *bitReader) bits(n int) (int, error) {
	v := 0
	for i := range n {
		if r.pos >= len(r.b) {
			return 0, errShort
		}
		v |= int(r.b[r.pos]>>r.bit&1) << i
		if r.bit++; r.bit == 8 {
			r.bit, r.pos = 0, r.pos+1
		}
	}
	return v, nil
}

func (r *bitReader) stored(out []byte) ([]byte, error) {
	if r.bit != 0 {
		r.bit, r.pos = 0, r.pos+1
	}
	if r.pos+4 > len(r.b) {
		return nil, errShort
	}
	n := int(r.b[r.pos]) | int(r.b[r.pos+1])<<8
	if nn := int(r.b[r.pos+2]) | int(r.b[r.pos+3])<<8; n != ^nn&0xffff {
		return nil, errors.New("trace: stored length mismatch")
	}
	r.pos += 4
	if r.pos+n > len(r.b) {
		return nil, errShort
	}
	out = append(out, r.b[r.pos:r.pos+n]...)
	r.pos += n
	return out, nil
}

// huffman is a canonical Huffman code: count[l] codes of length l, and the
// symbols ordered by code.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	for l := 1; l < 16; l++ {
		for s, sl := range lengths {
			if sl == l {
				h.symbol = append(h.symbol, s)
			}
		}
	}
	return h
}

// decode reads one symbol. Canonical codes of each length are consecutive
// and start right after the codes of the previous length, doubled.
func (r *bitReader) decode(h huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if code-first < h.count[l] {
			return h.symbol[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("trace: bad code")
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func fixedCodes() (lit, dist huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	return newHuffman(l), newHuffman(d)
}

func (r *bitReader) dynamicCodes() (lit, dist huffman, err error) {
	var hdr [3]int
	for i, n := range []int{5, 5, 4} {
		if hdr[i], err = r.bits(n); err != nil {
			return lit, dist, err
		}
	}
	nlit, ndist, nclen := hdr[0]+257, hdr[1]+1, hdr[2]+4
	cl := make([]int, 19)
	for i := range nclen {
		if cl[clOrder[i]], err = r.bits(3); err != nil {
			return lit, dist, err
		}
	}
	clCode := newHuffman(cl)
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		sym, err := r.decode(clCode)
		if err != nil {
			return lit, dist, err
		}
		rep, val := 1, sym
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return lit, dist, errors.New("trace: repeat with no previous length")
			}
			val = lengths[len(lengths)-1]
			rep, err = r.bits(2)
			rep += 3
		case 17:
			val = 0
			rep, err = r.bits(3)
			rep += 3
		case 18:
			val = 0
			rep, err = r.bits(7)
			rep += 11
		}
		if err != nil {
			return lit, dist, err
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) != nlit+ndist {
		return lit, dist, errors.New("trace: code lengths overflow")
	}
	return newHuffman(lengths[:nlit]), newHuffman(lengths[nlit:]), nil
}

func (r *bitReader) codes(out []byte, lit, dist huffman, maxDist *int) ([]byte, error) {
	for {
		sym, err := r.decode(lit)
		if err != nil {
			return nil, err
		}
		switch {
		case sym < 256:
			out = append(out, byte(sym))
			continue
		case sym == 256:
			return out, nil
		case sym > 285:
			return nil, fmt.Errorf("trace: bad length symbol %d", sym)
		}
		extra, err := r.bits(lengthExtra[sym-257])
		if err != nil {
			return nil, err
		}
		length := lengthBase[sym-257] + extra
		dsym, err := r.decode(dist)
		if err != nil || dsym >= 30 {
			return nil, fmt.Errorf("trace: bad distance symbol %d: %v", dsym, err)
		}
		if extra, err = r.bits(distExtra[dsym]); err != nil {
			return nil, err
		}
		d := distBase[dsym] + extra
		if d > len(out) {
			return nil, fmt.Errorf("trace: distance %d before the start", d)
		}
		*maxDist = max(*maxDist, d)
		for range length {
			out = append(out, out[len(out)-d])
		}
	}
}
