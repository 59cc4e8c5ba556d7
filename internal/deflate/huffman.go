package deflate

import (
	"math/bits"
	"slices"
)

// huffman builds length-limited canonical Huffman codes (RFC 1951 section
// 3.2.2). Its scratch lives in the pooled block state, so building a code
// allocates nothing.
type huffman struct {
	sorted []uint32 // freq<<9 | symbol of the symbols in use, ascending
	depth  []uint32 // Moffat–Katajainen working array
	flat   []uint32 // flattened frequencies, when a code is too deep
}

// code is a canonical Huffman code: per symbol its length in bits and its
// bits reversed, since DEFLATE sends Huffman codes most significant bit
// first into an otherwise least significant bit first stream.
type code struct {
	lens []uint8
	bits []uint16
}

func newCode(n int) code { return code{lens: make([]uint8, n), bits: make([]uint16, n)} }

// build sets c to a Huffman code for freq whose lengths are at most
// maxLen. Symbols of frequency 0 get no code. A single used symbol gets a
// 1-bit code, the one incomplete code decoders accept (RFC 1951 section
// 3.2.7, and zlib). freq is left as it is.
func (h *huffman) build(c *code, freq []uint32, maxLen int) {
	clear(c.lens[:len(freq)])
	for {
		h.sorted = h.sorted[:0]
		for sym, f := range freq {
			if f > 0 {
				h.sorted = append(h.sorted, min(f, 1<<22)<<9|uint32(sym))
			}
		}
		switch len(h.sorted) {
		case 0:
			return
		case 1:
			c.lens[h.sorted[0]&0x1ff] = 1
			c.assign(len(freq))
			return
		}
		slices.Sort(h.sorted)
		if h.lengths() <= maxLen {
			break
		}
		// Too deep: flatten the distribution and try again. Halving
		// (keeping every used symbol at 1 or more) converges on a
		// balanced tree, which fits any limit DEFLATE has.
		h.flat = append(h.flat[:0], freq...)
		for sym, f := range h.flat {
			if f > 0 {
				h.flat[sym] = f>>1 | 1
			}
		}
		freq = h.flat
	}
	for i, d := range h.depth {
		c.lens[h.sorted[i]&0x1ff] = uint8(d)
	}
	c.assign(len(freq))
}

// lengths computes optimal code lengths for h.sorted into h.depth, the
// in-place algorithm of Moffat and Katajainen (1995), and returns the
// longest.
func (h *huffman) lengths() int {
	n := len(h.sorted)
	a := append(h.depth[:0], h.sorted...)
	for i := range a {
		a[i] >>= 9
	}
	// Phase 1: combine the two smallest of leaves and internal nodes; an
	// internal node's weight is replaced by its parent's index.
	leaf, root := 0, 0
	for next := 0; next < n-1; next++ {
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Phase 2: depths of the internal nodes, from the root down.
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	// Phase 3: depths of the leaves, deepest (least frequent) first.
	avail, used, depth := 1, 0, uint32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail, used, depth = 2*used, 0, depth+1
	}
	h.depth = a
	return int(a[0])
}

// assign gives the first n symbols their canonical codes from their
// lengths (RFC 1951 section 3.2.2).
func (c *code) assign(n int) {
	var count [16]uint16
	for _, l := range c.lens[:n] {
		count[l]++
	}
	count[0] = 0
	var next [16]uint16
	v := uint16(0)
	for l := 1; l < 16; l++ {
		v = (v + count[l-1]) << 1
		next[l] = v
	}
	for sym, l := range c.lens[:n] {
		if l == 0 {
			c.bits[sym] = 0
			continue
		}
		c.bits[sym] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}
