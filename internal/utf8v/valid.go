package utf8v

import "encoding/binary"

// The validator is a shift-based DFA over the byte ranges of Unicode table
// 3-7, the same rules unicode/utf8 applies. A state is a bit offset, a
// multiple of 6 below 64, and transitions[b] holds at each state's offset
// the state that byte b leads to, so one step is a table load (which does
// not depend on the state, so the CPU can run ahead) and one shift.
//
// The states say what the next byte must be:
const (
	sAccept = 6 * iota // a character boundary: anything that starts a character
	sError             // invalid: stays here
	sCont1             // one more 80..BF
	sCont2             // two more 80..BF
	sCont3             // three more 80..BF
	sE0                // A0..BF, then one more (lower is overlong)
	sED                // 80..9F, then one more (higher is a surrogate)
	sF0                // 90..BF, then two more (lower is overlong)
	sF4                // 80..8F, then two more (higher is above U+10FFFF)
)

var transitions = func() (t [256]uint64) {
	// Every state not set below goes to sError, sError included.
	for b := range t {
		for s := uint64(0); s < 64-6; s += 6 {
			t[b] |= sError << s
		}
	}
	set := func(from uint64, lo, hi byte, to uint64) {
		for b := int(lo); b <= int(hi); b++ {
			t[b] = t[b]&^(63<<from) | to<<from
		}
	}
	set(sAccept, 0x00, 0x7F, sAccept)
	set(sAccept, 0xC2, 0xDF, sCont1)
	set(sAccept, 0xE0, 0xE0, sE0)
	set(sAccept, 0xE1, 0xEC, sCont2)
	set(sAccept, 0xED, 0xED, sED)
	set(sAccept, 0xEE, 0xEF, sCont2)
	set(sAccept, 0xF0, 0xF0, sF0)
	set(sAccept, 0xF1, 0xF3, sCont3)
	set(sAccept, 0xF4, 0xF4, sF4)
	set(sCont1, 0x80, 0xBF, sAccept)
	set(sCont2, 0x80, 0xBF, sCont1)
	set(sCont3, 0x80, 0xBF, sCont2)
	set(sE0, 0xA0, 0xBF, sCont1)
	set(sED, 0x80, 0x9F, sCont1)
	set(sF0, 0x90, 0xBF, sCont2)
	set(sF4, 0x80, 0x8F, sCont2)
	return t
}()

const hiBits = 0x8080808080808080

// Valid reports whether p is entirely valid UTF-8. It returns the same as
// unicode/utf8.Valid.
func Valid(p []byte) bool {
	return scan(sAccept, p) == sAccept
}

// scan runs the DFA from state s over p and returns the final state. It
// stops early once the state is sError.
func scan(s uint64, p []byte) uint64 {
	for len(p) >= 8 {
		if s == sAccept && binary.LittleEndian.Uint64(p)&hiBits == 0 {
			p = p[8:]
			if len(p) >= 64 && binary.LittleEndian.Uint64(p)&hiBits == 0 {
				p = p[asciiBlocks(p):] // a long run: worth the call
			}
			p = skipASCII(p)
			continue
		}
		// The shift count is masked to 6 bits for free (x86 and arm64
		// shifts do that), so the upper bits of s need not be cleared
		// between steps.
		t := &transitions
		s = t[p[0]] >> (s & 63)
		s = t[p[1]] >> (s & 63)
		s = t[p[2]] >> (s & 63)
		s = t[p[3]] >> (s & 63)
		s = t[p[4]] >> (s & 63)
		s = t[p[5]] >> (s & 63)
		s = t[p[6]] >> (s & 63)
		s = t[p[7]] >> (s & 63)
		s &= 63
		if s == sError {
			return s
		}
		p = p[8:]
	}
	for _, b := range p {
		s = transitions[b] >> (s & 63)
	}
	return s & 63
}

// skipASCII returns p without its leading run of ASCII words.
func skipASCII(p []byte) []byte {
	for len(p) >= 8 && binary.LittleEndian.Uint64(p)&hiBits == 0 {
		p = p[8:]
	}
	return p
}

// asciiBlocksGo returns the length of the run of ASCII at the start of p,
// counted in whole 64-byte blocks: the pure-Go kernel behind asciiBlocks.
func asciiBlocksGo(p []byte) int {
	n := 0
	for ; len(p)-n >= 64; n += 64 {
		q := p[n : n+64]
		w := (binary.LittleEndian.Uint64(q[0:]) | binary.LittleEndian.Uint64(q[8:])) |
			(binary.LittleEndian.Uint64(q[16:]) | binary.LittleEndian.Uint64(q[24:])) |
			(binary.LittleEndian.Uint64(q[32:]) | binary.LittleEndian.Uint64(q[40:])) |
			(binary.LittleEndian.Uint64(q[48:]) | binary.LittleEndian.Uint64(q[56:]))
		if w&hiBits != 0 {
			break
		}
	}
	return n
}
