package deflate

import (
	"encoding/binary"
	"slices"
)

// maxBlockTokens bounds a block: its symbols share one pair of Huffman
// codes, so longer blocks amortise the code's header over more data but
// follow changes in the data less closely.
const maxBlockTokens = 1 << 14

// block gathers the tokens of one DEFLATE block with their frequencies,
// and writes the block with dynamic or fixed Huffman codes or stored,
// whichever is shortest (RFC 1951 sections 3.2.4, 3.2.6 and 3.2.7). It
// is scratch: pooled, and held only while a message is being compressed.
type block struct {
	tokens   []token
	size     int // the input bytes the tokens stand for
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32
	clFreq   [numCodeLen]uint32
	seq      []uint16 // the code length sequence: symbol | extra<<5
	lit      code
	dist     code
	cl       code
	h        huffman
}

func newBlock() *block {
	return &block{
		tokens: make([]token, 0, maxBlockTokens),
		lit:    newCode(numLitLen),
		dist:   newCode(numDist),
		cl:     newCode(numCodeLen),
	}
}

// room is how many more tokens the block takes.
func (b *block) room() int { return maxBlockTokens - len(b.tokens) }

func (b *block) addLiterals(p []byte) {
	n := len(b.tokens)
	b.tokens = b.tokens[:n+len(p)]
	t := b.tokens[n:][:len(p)]
	for i, c := range p {
		t[i] = token(c)
		b.litFreq[c]++
	}
	b.size += len(p)
}

// addMatch adds a match of any length of at least 3, as tokens of at most
// maxMatch each; the caller has checked room for length/maxMatch+1.
func (b *block) addMatch(length, dist int) {
	for length > maxMatch {
		// Leave at least 3 for the next token.
		n := min(maxMatch, length-3)
		b.addToken(n, dist)
		length -= n
	}
	b.addToken(length, dist)
}

// addToken adds a match of 3..maxMatch bytes.
func (b *block) addToken(length, dist int) {
	t := matchToken(length, dist)
	b.tokens = append(b.tokens, t)
	b.litFreq[257+t.lengthCode()]++
	b.distFreq[t.distCode()]++
	b.size += length
}

// write writes the block, not final, and empties it. raw is the input
// the block stands for, or nil if it is no longer at hand; with it the
// block may go out stored, when that is shortest (incompressible data).
func (b *block) write(w *bitWriter, raw []byte) {
	dynamic, fixed := b.huffmanBits()
	switch {
	case raw != nil && storedBits(w.nbits, len(raw)) < min(fixed, dynamic):
		writeStored(w, raw)
	case fixed <= dynamic:
		w.put(1<<1, 3) // BFINAL 0, BTYPE 01
		b.writeTokens(w, &fixedLit, &fixedDist)
	default:
		w.put(2<<1, 3) // BFINAL 0, BTYPE 10
		b.writeHeader(w)
		b.writeTokens(w, &b.lit, &b.dist)
	}
	b.reset()
}

// storedShortest reports whether the block, standing for raw, is shortest
// stored.
func (b *block) storedShortest(w *bitWriter, raw []byte) bool {
	dynamic, fixed := b.huffmanBits()
	return storedBits(w.nbits, len(raw)) < min(fixed, dynamic)
}

// huffmanBits builds the block's dynamic codes and returns the bits the
// block takes with them and with the fixed codes.
func (b *block) huffmanBits() (dynamic, fixed int) {
	b.litFreq[endOfBlock] = 1
	b.h.build(&b.lit, b.litFreq[:], 15)
	b.h.build(&b.dist, b.distFreq[:], 15)
	extra := 0
	for i, e := range lengthExtra {
		extra += int(b.litFreq[257+i]) * int(e)
	}
	for i, e := range distExtra {
		extra += int(b.distFreq[i]) * int(e)
	}
	dynamic = 3 + extra + b.header() + cost(b.litFreq[:], b.lit.lens) + cost(b.distFreq[:], b.dist.lens)
	fixed = 3 + extra + cost(b.litFreq[:], fixedLit.lens) + cost(b.distFreq[:], fixedDist.lens)
	return dynamic, fixed
}

// maxStored is the most bytes one stored block holds (RFC 1951 section
// 3.2.4: LEN is 16 bits).
const maxStored = 1<<16 - 1

// storedBits returns the bits n bytes take as stored blocks, written
// after pending bits: each block has a 3-bit header, padding to a byte,
// then LEN and NLEN.
func storedBits(pending uint, n int) int {
	blocks := max(1, (n+maxStored-1)/maxStored)
	pad := (8 - (int(pending)+3)%8) % 8
	return 3 + pad + 32 + 8*n + (blocks-1)*(8+32)
}

// writeStored writes raw as stored blocks, not final.
func writeStored(w *bitWriter, raw []byte) {
	for first := true; first || len(raw) > 0; first = false {
		n := min(len(raw), maxStored)
		w.put(0, 3) // BFINAL 0, BTYPE 00
		w.align()
		w.out = append(w.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		w.out = append(w.out, raw[:n]...)
		raw = raw[n:]
	}
}

// reset empties the block.
func (b *block) reset() {
	b.tokens = b.tokens[:0]
	b.size = 0
	clear(b.litFreq[:])
	clear(b.distFreq[:])
}

// cost returns the bits that symbols of these frequencies take in code
// lengths lens.
func cost(freq []uint32, lens []uint8) int {
	n := 0
	for i, f := range freq {
		n += int(f) * int(lens[i])
	}
	return n
}

// header prepares the dynamic block header, the code lengths of both
// codes run-length encoded (RFC 1951 section 3.2.7), and returns its size
// in bits.
func (b *block) header() int {
	if countUsed(b.dist.lens) == 0 {
		// A block of literals only still needs one distance code.
		b.dist.lens[0] = 1
		b.dist.assign(numDist)
	}
	nlit, ndist := used(b.lit.lens, 257), used(b.dist.lens, 1)
	b.seq = b.seq[:0]
	clear(b.clFreq[:])
	b.runLengths(b.lit.lens[:nlit], b.dist.lens[:ndist])
	b.h.build(&b.cl, b.clFreq[:], 7)
	n := 5 + 5 + 4 + 3*usedCL(b.cl.lens)
	for _, s := range b.seq {
		sym := s & 0x1f
		n += int(b.cl.lens[sym]) + int(clExtra[sym])
	}
	return n
}

// clExtra is the count of extra bits after each code length symbol.
var clExtra = [numCodeLen]uint8{16: 2, 17: 3, 18: 7}

// clOrder is the order code length code lengths are sent in.
var clOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func countUsed(lens []uint8) int {
	n := 0
	for _, l := range lens {
		if l > 0 {
			n++
		}
	}
	return n
}

// used returns the count of lengths up to the last non-zero one, at
// least least.
func used(lens []uint8, least int) int {
	n := len(lens)
	for n > least && lens[n-1] == 0 {
		n--
	}
	return n
}

// usedCL returns how many code length code lengths are sent, at least 4.
func usedCL(lens []uint8) int {
	n := numCodeLen
	for n > 4 && lens[clOrder[n-1]] == 0 {
		n--
	}
	return n
}

// runLengths encodes the concatenated lengths with the repeat symbols 16
// (previous length 3–6 times), 17 (zero 3–10 times) and 18 (zero 11–138
// times); runs may cross from one code's lengths to the other's.
func (b *block) runLengths(lit, dist []uint8) {
	n := len(lit) + len(dist)
	at := func(i int) uint8 {
		if i < len(lit) {
			return lit[i]
		}
		return dist[i-len(lit)]
	}
	for i := 0; i < n; {
		v := at(i)
		run := 1
		for i+run < n && at(i+run) == v {
			run++
		}
		i += run
		if v == 0 {
			for run >= 11 {
				k := min(run, 138)
				b.emitCL(18, k-11)
				run -= k
			}
			if run >= 3 {
				b.emitCL(17, run-3)
				run = 0
			}
		} else {
			b.emitCL(v, 0)
			run--
			for run >= 3 {
				k := min(run, 6)
				b.emitCL(16, k-3)
				run -= k
			}
		}
		for ; run > 0; run-- {
			b.emitCL(v, 0)
		}
	}
}

func (b *block) emitCL(sym uint8, extra int) {
	b.seq = append(b.seq, uint16(sym)|uint16(extra)<<5)
	b.clFreq[sym]++
}

func (b *block) writeHeader(w *bitWriter) {
	nlit, ndist := used(b.lit.lens, 257), used(b.dist.lens, 1)
	ncl := usedCL(b.cl.lens)
	w.put(uint64(nlit-257)|uint64(ndist-1)<<5|uint64(ncl-4)<<10, 14)
	for _, sym := range clOrder[:ncl] {
		w.put(uint64(b.cl.lens[sym]), 3)
	}
	for _, s := range b.seq {
		sym := s & 0x1f
		w.put(uint64(b.cl.bits[sym])|uint64(s>>5)<<b.cl.lens[sym], uint(b.cl.lens[sym]+clExtra[sym]))
	}
}

func (b *block) writeTokens(w *bitWriter, lit, dist *code) {
	// The bit buffer lives in locals through the loop, and each token
	// leaves its whole bytes with one 8-byte store: a token takes at most
	// 48 bits, 55 with the 7 that may wait, so the word never overflows.
	w.flushBytes()
	out := slices.Grow(w.out, 6*len(b.tokens)+16)
	buf, n := out[:cap(out)], len(out)
	bits, nbits := w.bits, w.nbits
	litBits, litLens := (*[numLitLen]uint16)(lit.bits), (*[numLitLen]uint8)(lit.lens)
	for _, t := range b.tokens {
		if !t.isMatch() {
			c := t.literal()
			bits |= uint64(litBits[c]) << nbits
			nbits += uint(litLens[c])
		} else {
			lc, l3 := t.lengthCode(), t.length3()
			ln := litLens[257+lc]
			bits |= (uint64(litBits[257+lc]) | uint64(l3-int(lengthBase[lc]))<<ln) << nbits
			nbits += uint(ln + lengthExtra[lc])
			dc, d := t.distCode(), t.dist1()
			dn := dist.lens[dc]
			bits |= (uint64(dist.bits[dc]) | uint64(d-int(distBase[dc]))<<dn) << nbits
			nbits += uint(dn + distExtra[dc])
		}
		binary.LittleEndian.PutUint64(buf[n:], bits)
		k := nbits >> 3
		n += int(k)
		bits >>= (k << 3) & 63
		nbits &= 7
	}
	w.out, w.bits, w.nbits = out[:n], bits, nbits
	w.put(uint64(lit.bits[endOfBlock]), uint(lit.lens[endOfBlock]))
}

// fixedLit and fixedDist are the fixed Huffman codes (RFC 1951 section
// 3.2.6).
var fixedLit, fixedDist = newCode(288), newCode(numDist)

func init() {
	for i := range fixedLit.lens {
		switch {
		case i < 144:
			fixedLit.lens[i] = 8
		case i < 256:
			fixedLit.lens[i] = 9
		case i < 280:
			fixedLit.lens[i] = 7
		default:
			fixedLit.lens[i] = 8
		}
	}
	fixedLit.assign(288)
	for i := range fixedDist.lens {
		fixedDist.lens[i] = 5
	}
	fixedDist.assign(numDist)
}
