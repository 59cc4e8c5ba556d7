package inflate

import "testing"

// TestTableSpaceWorstCase builds the valid codes that need the most
// secondary table space, which litTableSize and distTableSize must hold:
// a complete code (RFC 1951 section 3.2.2) whose few short codes cover
// most primary entries while the other symbols each form, under one
// primary entry, the smallest subtree as deep as codes go (15 bits).
func TestTableSpaceWorstCase(t *testing.T) {
	for _, tt := range []struct {
		name  string
		short []uint8 // lengths of the codes that fill the rest of the primary table
		root  uint
		syms  int
		table []uint32
		vals  []uint32
	}{
		// 472 of 512 entries by 5 codes, and 40 subtrees of 64 entries
		// (7 codes each, 10..15 bits): 285 symbols, 2560 entries.
		{"literal/length", []uint8{1, 2, 3, 5, 6}, litRoot, 286, make([]uint32, litTableSize), litVals[:]},
		// 253 of 256 entries by 7 codes, two subtrees of 128 entries (8
		// codes each, 9..15 bits) and one of 64 (7 codes): 30 symbols,
		// 320 entries.
		{"distance", []uint8{1, 2, 3, 4, 5, 6, 8}, distRoot, 30, make([]uint32, distTableSize), distVals[:]},
	} {
		lens := append([]uint8(nil), tt.short...)
		used := 0
		for _, l := range tt.short {
			used += 1 << (tt.root - uint(l))
		}
		entries := 0
		for free := 1<<tt.root - used; free > 0; free-- {
			// A caterpillar: one code at each depth below the primary
			// entry, two at the deepest; 8 codes for a 7-bit subtree.
			depth := 15 - tt.root
			if len(lens)+int(depth)+1 > tt.syms {
				depth--
			}
			for d := uint(1); d <= depth; d++ {
				lens = append(lens, uint8(tt.root+d))
			}
			lens = append(lens, uint8(tt.root+depth))
			entries += 1 << depth
		}
		if len(lens) > tt.syms {
			t.Fatalf("%s: %d codes, more than %d symbols", tt.name, len(lens), tt.syms)
		}
		lens = append(lens, make([]uint8, tt.syms-len(lens))...)
		if !build(tt.table, lens, tt.vals, tt.root) {
			t.Errorf("%s: a valid code needing %d secondary entries does not build", tt.name, entries)
		}
		t.Logf("%s: %d secondary entries of %d", tt.name, entries, len(tt.table)-1<<tt.root)
	}
}
