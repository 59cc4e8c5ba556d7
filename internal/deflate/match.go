package deflate

// match turns the input waiting in the history into tokens: greedy LZ77
// (RFC 1951 section 4) over a table of the last position seen for each
// 6-byte hash; matches are at least 4 bytes long. Table entries are
// 16-bit stream positions, so an entry may be stale or point at unrelated
// bytes; every candidate is checked against the window and compared byte
// for byte before it is used, so a wrong entry costs a missed match,
// never a wrong one.
//
// Unless the message ends here (final), match stops a longest match short
// of the end of the input, so that a match running on into input still
// to come is not cut at a chunk boundary; that last piece waits in the
// history for the next call.
func (e *Encoder) match(final bool) {
	h := e.h
	b := h.buf
	s, end := h.enc, len(b)
	lit := s // start of the literals not yet added
	limit := end - 8
	if !final {
		limit -= maxMatch
	}
	window := uint(e.window)
	for s < limit {
		cv := load64(b, s)
		slot := &h.table[hash6of(cv)]
		pos := uint16(h.base + uint32(s))
		dist := int(pos - *slot)
		*slot = pos
		c := s - dist
		// dist 0 is an entry of this very position, from 64 KiB ago.
		if uint(dist-1) >= window || c < 0 || load32(b, c) != uint32(cv) {
			s += 1 + (s-lit)>>skipLog
			continue
		}
		for c > 0 && s > lit && b[c-1] == b[s-1] {
			c--
			s--
		}
		n := 4 + matchLen(b[c+4:], b[s+4:end])
		if blk := e.blk; n <= maxMatch && blk.room() > s-lit {
			blk.addLiterals(b[lit:s])
			blk.addToken(n, dist)
		} else {
			e.addLiterals(b[lit:s])
			e.addMatch(n, dist)
		}
		s += n
		lit = s
		if s < limit {
			// Index the end of the match, where the next one is likely
			// to start from.
			h.table[hash6(b, s-2)] = uint16(h.base + uint32(s-2))
			h.table[hash6(b, s-1)] = uint16(h.base + uint32(s-1))
		}
	}
	if !final {
		end = min(max(s, lit), end)
	}
	e.addLiterals(b[lit:end])
	h.enc = end
}

// addLiterals adds literals to the block, writing full blocks out.
func (e *Encoder) addLiterals(p []byte) {
	for len(p) > 0 {
		if e.blk.room() == 0 {
			e.writeBlock()
		}
		n := min(len(p), e.blk.room())
		e.blk.addLiterals(p[:n])
		p = p[n:]
	}
}

// addMatch adds a match to the block, writing it out first if full.
func (e *Encoder) addMatch(n, dist int) {
	for n > 0 {
		if e.blk.room() == 0 {
			e.writeBlock()
		}
		k := min(n, e.blk.room()*maxMatch)
		if n-k > 0 && n-k < 3 {
			k = n - 3
		}
		e.blk.addMatch(k, dist)
		n -= k
	}
}
