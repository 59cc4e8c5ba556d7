// Package inflate decodes raw DEFLATE (RFC 1951) as permessage-deflate
// (RFC 7692) sends it: one message at a time, each message's payload
// without the 00 00 ff ff that ends its sync flush, with or without the
// previous messages as history.
//
// Output is written once into a 32 KiB window, the LZ77 window of RFC 1951
// section 3.2, and copied once from there into the caller's buffer, so the
// window doubles as the history between messages with context takeover.
package inflate

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"sync"
)

const (
	// winSize is the largest distance RFC 1951 section 3.2.5 allows.
	winSize = 1 << 15
	// inSize is the read buffer: large enough that src is read in a few
	// calls per message, small enough to pool cheaply.
	inSize = 4096
	// maxMatch is the longest back-reference (length code 285).
	maxMatch = 258

	litRoot  = 9 // primary table bits for literal/length codes
	distRoot = 8 // primary table bits for distance codes
	clRoot   = 7 // code length codes are at most 7 bits: one level

	// Secondary table space, bounded in build's comment.
	litTableSize  = 1<<litRoot + 2592
	distTableSize = 1<<distRoot + 512

	// Table entry flags; see build.
	subFlag = 1 << 8  // a primary entry pointing to a secondary table
	lenFlag = 1 << 9  // a length code: base<<16, extra bits count<<4
	eobFlag = 1 << 10 // the end of block code, 256
	badFlag = 1 << 11 // no code, or one that must not occur (286, 287; distance 30, 31)
)

// syncTail is LEN and NLEN of the empty stored block that ends a sync
// flush; RFC 7692 section 7.2.2 has the receiver put it back.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// emptyStoredBlock is what RFC 7692 section 7.2.1 appends after a BFINAL
// block; the sender then removes its last four bytes, so such a message
// ends with a single 0x00 (the example of section 7.2.3.4).
var emptyStoredBlock = [5]byte{0x00, 0x00, 0x00, 0xff, 0xff}

// Length and distance bases and extra bits, RFC 1951 section 3.2.5.
var (
	lenBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// clOrder is the order of the code length code lengths, RFC 1951 section
// 3.2.7.
var clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// The fixed Huffman codes of RFC 1951 section 3.2.6, built once.
var (
	fixedLit  = new([litTableSize]uint32)
	fixedDist = new([distTableSize]uint32)
)

// What table entries hold for each symbol, besides the code length: the
// literal, or a length's or distance's base and extra bits (RFC 1951
// section 3.2.5), so that decoding needs no second lookup.
var (
	litVals  [288]uint32
	distVals [32]uint32
	clVals   [19]uint32
)

func init() {
	var lens [288 + 32]uint8
	for i := range 288 {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	for i := 288; i < len(lens); i++ {
		lens[i] = 5
	}
	for sym := range litVals {
		switch {
		case sym < 256:
			litVals[sym] = uint32(sym) << 16
		case sym == 256:
			litVals[sym] = eobFlag
		case sym < 286:
			litVals[sym] = uint32(lenBase[sym-257])<<16 | uint32(lenExtra[sym-257])<<4 | lenFlag
		default:
			litVals[sym] = badFlag
		}
	}
	for sym := range distVals {
		if sym < 30 {
			distVals[sym] = uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<4
		} else {
			distVals[sym] = badFlag
		}
	}
	for sym := range clVals {
		clVals[sym] = uint32(sym) << 16
	}
	if !build(fixedLit[:], lens[:288], litVals[:], litRoot) || !build(fixedDist[:], lens[288:], distVals[:], distRoot) {
		panic("inflate: fixed Huffman codes do not build")
	}
}

// build fills t with the decoding table of the canonical Huffman code
// whose code lengths are lens (RFC 1951 section 3.2.2), and reports
// whether the code is valid.
//
// An entry is vals[sym] | n, n the code length in the low 4 bits; badFlag
// (n 0) marks a bit pattern that is no code. Codes longer than root bits
// share a primary entry off<<16 | subFlag | k pointing to a secondary
// table of 2^k entries at t[off:], indexed by the k bits after the first
// root.
//
// The code must be complete, except for the two cases zlib (and so
// compress/flate) accepts: no codes at all, which fails only if a symbol
// is decoded, and a single code of length 1, whose other bit pattern is
// invalid.
//
// Secondary space: a secondary table of 2^k entries covers a complete
// subtree with at least k+1 leaves, and k <= 15-root. For 286 literal codes
// and root 9 that is at most 40 tables of 64 entries (2560); for 30
// distance codes and root 8, at most 320 (TestTableSpaceWorstCase builds
// both). build still checks.
func build(t []uint32, lens []uint8, vals []uint32, root uint) bool {
	var count [16]int
	maxLen := 0
	for _, l := range lens {
		count[l&15]++
		maxLen = max(maxLen, int(l))
	}
	primary := t[:1<<root]
	if maxLen == 0 {
		fillBad(primary)
		return true
	}
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 {
		if maxLen != 1 || count[1] != 1 {
			return false // incomplete
		}
		// A complete code writes every entry below; this one leaves
		// half of them invalid.
		fillBad(primary)
	}
	// The canonical codes, RFC 1951 section 3.2.2, bit-reversed.
	var next [16]uint16
	code := uint16(0)
	count[0] = 0
	for l := 1; l <= 15; l++ {
		code = (code + uint16(count[l-1])) << 1
		next[l] = code
	}
	var revs [288]uint16
	for sym, l := range lens {
		if l != 0 {
			revs[sym] = bits.Reverse16(next[l]) >> (16 - l)
			next[l]++
		}
	}
	mask := uint16(1<<root - 1)
	if maxLen > int(root) {
		// The longest code under each primary entry that has longer
		// codes, kept in the entry for now, then a secondary table of
		// that many bits each. A complete code fills each one.
		for sym, l := range lens {
			if uint(l) > root {
				primary[revs[sym]&mask] = 0
			}
		}
		for sym, l := range lens {
			if uint(l) > root {
				p := revs[sym] & mask
				primary[p] = max(primary[p], uint32(l))
			}
		}
		off := 1 << root
		for sym, l := range lens {
			if uint(l) <= root {
				continue
			}
			p := revs[sym] & mask
			e := primary[p]
			if e&subFlag != 0 {
				continue
			}
			k := e - uint32(root)
			if off+1<<k > len(t) {
				return false
			}
			primary[p] = uint32(off)<<16 | subFlag | k
			off += 1 << k
		}
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		rev := int(revs[sym])
		e := vals[sym] | uint32(l)
		if uint(l) <= root {
			for i := rev; i < len(primary); i += 1 << l {
				primary[i] = e
			}
			continue
		}
		pe := primary[rev&int(mask)]
		sub := t[pe>>16 : pe>>16+1<<(pe&15)]
		for i := rev >> root; i < len(sub); i += 1 << (uint(l) - root) {
			sub[i] = e
		}
	}
	return true
}

func fillBad(t []uint32) {
	for i := range t {
		t[i] = badFlag
	}
}

// reverse returns the n low bits of c in reverse order: Huffman codes are
// packed starting with their most significant bit (RFC 1951 section 3.1.1)
// while the bit buffer is consumed from its least significant end.
func reverse(c int, n uint) int {
	return int(bits.Reverse16(uint16(c)) >> (16 - n))
}

// Decoder states between calls to decode.
const (
	stHeader  = iota // at a block header
	stStored         // inside a stored block
	stHuffman        // inside a Huffman block
	stFinal          // after a BFINAL block: drain the payload
	stDone
)

// state is what one message needs besides the window. It is pooled and
// held only while a message is read.
type state struct {
	src       io.Reader
	in        [inSize]byte
	ir, iw    int   // unread input is in[ir:iw]
	consumed  int64 // payload bytes read from src
	srcDone   bool  // src returned io.EOF
	tailAdded bool  // syncTail was appended to in
	empties   int   // consecutive empty reads from src

	bits uint64 // bit buffer, next bit lowest
	nb   uint   // valid bits in bits

	step       int
	final      bool // the current block has BFINAL set
	storedLeft int
	copyLen    int // a back-reference left unfinished when the window filled
	copyDist   int
	rpos       int // window bytes not yet returned: win[rpos:Reader.wpos]
	base       int // history before win[0] during decode: base+wpos bytes are valid

	lit     *[litTableSize]uint32 // tables of the current Huffman block
	dist    *[distTableSize]uint32
	litTab  [litTableSize]uint32
	distTab [distTableSize]uint32
	clTab   [1 << clRoot]uint32
	lens    [286 + 30]uint8
}

var (
	statePool  = sync.Pool{New: func() any { return new(state) }}
	windowPool = sync.Pool{New: func() any { return new([winSize]byte) }}
)

// Reader inflates the messages of one direction of a connection, one at a
// time: Reset with the message's payload, then Read to io.EOF.
//
// With history (context takeover, RFC 7692 section 7.2.2) the Reader keeps
// its 32 KiB window between messages, allocated on first use, and nothing
// else; everything else is pooled for the time a message is read. Without
// history the window is pooled too. A Reader is not safe for concurrent
// use.
type Reader struct {
	keep bool
	win  *[winSize]byte
	wpos int // next window byte to write
	hist int // bytes of valid history before wpos, at most winSize
	s    *state
	err  error // sticky for the current message, returned once output is served
}

// NewReader returns a Reader. keepHistory is context takeover: back
// references may reach into earlier messages' output.
func NewReader(keepHistory bool) *Reader {
	return &Reader{keep: keepHistory}
}

var errNoReset = errors.New("inflate: Read before Reset")

// Reset starts a message whose payload is read from src. The payload is
// as RFC 7692 section 7.2.1 sends it, without the final 00 00 ff ff, which
// Reset's Reader puts back (section 7.2.2). A message left unfinished
// before Reset leaves no usable history, so the history is dropped.
func (r *Reader) Reset(src io.Reader) {
	if r.s != nil {
		r.dropHistory()
		r.release()
	}
	s := statePool.Get().(*state)
	// Field by field: the arrays, most of the state, are written before
	// they are read.
	s.src, s.ir, s.iw, s.consumed, s.srcDone, s.tailAdded, s.empties = src, 0, 0, 0, false, false, 0
	s.bits, s.nb = 0, 0
	s.step, s.final, s.storedLeft, s.copyLen, s.copyDist = stHeader, false, 0, 0, 0
	s.lit, s.dist = nil, nil
	r.s = s
	r.err = nil
	if r.win == nil {
		if r.keep {
			r.win = new([winSize]byte)
		} else {
			r.win = windowPool.Get().(*[winSize]byte)
		}
	}
	if !r.keep {
		r.wpos, r.hist = 0, 0
	}
	if r.wpos == winSize {
		r.wpos = 0
	}
	s.rpos = r.wpos
}

// Read returns inflated bytes of the current message: io.EOF at its end,
// io.ErrUnexpectedEOF if the payload ends inside a block, a
// flate.CorruptInputError for invalid data, or src's error. Output
// decoded before an error is returned first.
func (r *Reader) Read(p []byte) (int, error) {
	s := r.s
	if s == nil {
		if r.err != nil {
			return 0, r.err
		}
		return 0, errNoReset
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if s.rpos < r.wpos {
			n := copy(p, r.win[s.rpos:r.wpos])
			s.rpos += n
			return n, nil
		}
		if r.err != nil {
			if r.err != io.EOF {
				r.dropHistory()
			}
			r.release()
			return 0, r.err
		}
		if r.wpos == winSize {
			r.wpos, s.rpos = 0, 0
		}
		// Output written by decode counts as history for distances.
		s.base = r.hist - r.wpos
		err := r.decode(s)
		r.hist = min(winSize, s.base+r.wpos)
		if err != nil {
			r.err = err
		}
	}
}

// Discard abandons the current message, if any, and the history, which
// would be inconsistent without the rest of the message: for a caller
// that stops reading early, such as at a size limit. The window stays
// allocated with history; Reset starts the next message.
func (r *Reader) Discard() {
	r.dropHistory()
	r.release()
	if r.err == nil {
		r.err = errDiscarded
	}
}

// Close is Discard that also gives up the window: a Reader with history
// then holds no buffer until its next message, which starts with an empty
// window.
func (r *Reader) Close() {
	r.Discard()
	r.win = nil
}

var errDiscarded = errors.New("inflate: Read after Discard")

// Idle reports whether the Reader holds no pooled buffer: no message is in
// progress. An idle Reader holds only itself, and its window with history.
func (r *Reader) Idle() bool {
	return r.s == nil && (r.keep || r.win == nil)
}

func (r *Reader) dropHistory() {
	r.wpos, r.hist = 0, 0
}

// release returns the message's state, and the window without history,
// to their pools.
func (r *Reader) release() {
	if r.s != nil {
		r.s.src = nil
		statePool.Put(r.s)
		r.s = nil
	}
	if !r.keep && r.win != nil {
		windowPool.Put(r.win)
		r.win = nil
	}
}

// pos is the stream offset decoding has reached, for error offsets.
func (s *state) pos() int64 {
	p := s.consumed - int64(s.iw-s.ir) - int64(s.nb/8)
	if s.tailAdded {
		p += int64(len(syncTail))
	}
	return p
}

func (s *state) corrupt() error {
	return flate.CorruptInputError(s.pos())
}

// fill reads more of src into in. After src's end it appends syncTail
// once (unless the payload was empty, a valid empty message) and then
// returns io.EOF when nothing is left.
func (s *state) fill() error {
	if s.ir > 0 {
		s.iw = copy(s.in[:], s.in[s.ir:s.iw])
		s.ir = 0
	}
	for !s.srcDone {
		if s.src == nil {
			s.srcDone = true // a nil src is an empty payload
			break
		}
		buf := s.in[s.iw : len(s.in)-len(syncTail)]
		n, err := s.src.Read(buf)
		if n < 0 || n > len(buf) {
			return errors.New("inflate: invalid count from Read")
		}
		s.iw += n
		s.consumed += int64(n)
		if err == io.EOF {
			s.srcDone = true
			if s.consumed > 0 {
				s.iw += copy(s.in[s.iw:], syncTail[:])
				s.tailAdded = true
			}
			break
		}
		if err != nil {
			return err
		}
		if n > 0 {
			s.empties = 0
			return nil
		}
		if s.empties++; s.empties > 100 {
			return io.ErrNoProgress
		}
	}
	if s.ir == s.iw {
		return io.EOF
	}
	return nil
}

// need makes at least n <= 56 bits available, reading src as needed; a
// stream that ends first is truncated.
func (s *state) need(n uint) error {
	if s.nb >= n {
		return nil
	}
	if s.ir+8 <= s.iw {
		// As in huffman's loop: 7 bytes or fewer, up to 56-63 bits.
		s.bits |= binary.LittleEndian.Uint64(s.in[s.ir:]) << s.nb
		s.ir += int((63 - s.nb) >> 3)
		s.nb |= 56
		return nil
	}
	for s.nb < n {
		if s.ir == s.iw {
			if err := s.fill(); err != nil {
				return noEOF(err)
			}
		}
		s.bits = s.bits&(1<<s.nb-1) | uint64(s.in[s.ir])<<s.nb
		s.ir++
		s.nb += 8
	}
	return nil
}

// want is need without the error at the end of the stream: symbols are
// decoded with as many bits as there are, up to n.
func (s *state) want(n uint) error {
	if err := s.need(n); err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *state) take(n uint) uint64 {
	v := s.bits & (1<<n - 1)
	s.bits >>= n
	s.nb -= n
	return v
}

// inputEmpty reports that the next bit needs a read of src that may block.
func (s *state) inputEmpty() bool {
	return s.ir == s.iw && !s.srcDone
}

// decode produces output into r.win[r.wpos:] until the window is full, the
// message ends (io.EOF) or fails, or more input would mean blocking with
// output still to return.
func (r *Reader) decode(s *state) error {
	for r.wpos < winSize {
		pending := r.wpos > s.rpos
		switch s.step {
		case stHeader:
			if s.nb < 3 && s.inputEmpty() && pending {
				return nil
			}
			if s.nb == 0 && s.ir == s.iw {
				if err := s.fill(); err == io.EOF {
					// The stream ends at a block boundary: after the
					// restored syncTail, or an empty payload.
					s.step = stDone
					return io.EOF
				} else if err != nil {
					return err
				}
			}
			if err := r.header(s); err != nil {
				return err
			}
		case stStored:
			if err := r.stored(s); err != nil {
				return err
			}
			if s.step == stStored {
				return nil // window full or input to wait for
			}
		case stHuffman:
			if err := r.huffman(s); err != nil {
				return err
			}
			if s.step == stHuffman {
				return nil
			}
		case stFinal:
			if pending {
				return nil
			}
			s.step = stDone
			if err := s.drain(); err != nil {
				return err
			}
			return io.EOF
		default:
			return io.EOF
		}
	}
	return nil
}

// endBlock moves on after a block: to the next header, or to the drain
// after a BFINAL block.
func (s *state) endBlock() {
	if s.final {
		s.step = stFinal
	} else {
		s.step = stHeader
	}
}

// header reads a block header, RFC 1951 section 3.2.3, and for dynamic
// blocks the code definitions of section 3.2.7.
func (r *Reader) header(s *state) error {
	if err := s.need(3); err != nil {
		return err
	}
	s.final = s.take(1) == 1
	switch s.take(2) {
	case 0:
		// Stored, section 3.2.4: skip to the byte boundary, then LEN and
		// NLEN.
		s.take(s.nb & 7)
		if err := s.need(32); err != nil {
			return err
		}
		n := s.take(16)
		if nn := s.take(16); n != nn^0xffff {
			return s.corrupt()
		}
		s.storedLeft = int(n)
		s.step = stStored
	case 1:
		s.lit, s.dist = fixedLit, fixedDist
		s.step = stHuffman
	case 2:
		if err := s.dynamic(); err != nil {
			return err
		}
		s.lit, s.dist = &s.litTab, &s.distTab
		s.step = stHuffman
	default:
		return s.corrupt() // reserved BTYPE 11
	}
	return nil
}

// dynamic reads the code lengths of a dynamic block (RFC 1951 section
// 3.2.7) and builds its tables. Like zlib and compress/flate it refuses
// more than 286 literal/length or 30 distance codes.
func (s *state) dynamic() error {
	if err := s.need(14); err != nil {
		return err
	}
	nlit := int(s.take(5)) + 257
	ndist := int(s.take(5)) + 1
	nclen := int(s.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return s.corrupt()
	}
	var cl [19]uint8
	for i := range nclen {
		if err := s.need(3); err != nil {
			return err
		}
		cl[clOrder[i]] = uint8(s.take(3))
	}
	if !build(s.clTab[:], cl[:], clVals[:], clRoot) {
		return s.corrupt()
	}
	lens := s.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if err := s.want(7); err != nil {
			return err
		}
		e, err := s.symbol(s.clTab[:], clRoot)
		if err != nil {
			return err
		}
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return s.corrupt()
			}
			if err := s.need(2); err != nil {
				return err
			}
			rep, v = 3+int(s.take(2)), lens[i-1]
		case 17:
			if err := s.need(3); err != nil {
				return err
			}
			rep = 3 + int(s.take(3))
		default:
			if err := s.need(7); err != nil {
				return err
			}
			rep = 11 + int(s.take(7))
		}
		if i+rep > len(lens) {
			return s.corrupt()
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if !build(s.litTab[:], lens[:nlit], litVals[:], litRoot) || !build(s.distTab[:], lens[nlit:], distVals[:], distRoot) {
		return s.corrupt()
	}
	return nil
}

// stored copies a stored block's bytes into the window, first what the
// bit buffer holds, then straight from the read buffer.
func (r *Reader) stored(s *state) error {
	for s.storedLeft > 0 && s.nb >= 8 && r.wpos < winSize {
		r.win[r.wpos] = byte(s.take(8))
		r.wpos++
		s.storedLeft--
	}
	if s.nb == 0 {
		s.bits = 0 // bytes are now taken from in directly
	}
	for s.storedLeft > 0 && r.wpos < winSize {
		if s.ir == s.iw {
			if !s.srcDone && r.wpos > s.rpos {
				return nil
			}
			if err := s.fill(); err != nil {
				return noEOF(err)
			}
		}
		n := copy(r.win[r.wpos:min(winSize, r.wpos+s.storedLeft)], s.in[s.ir:s.iw])
		s.ir += n
		r.wpos += n
		s.storedLeft -= n
	}
	if s.storedLeft == 0 {
		s.endBlock()
	}
	return nil
}

// copyBack appends the length bytes found dist bytes back in the ring win
// at wpos, which has room for them, and returns the new wpos. Source and
// destination overlap when dist < length: then the bytes written become
// the source of the next ones (RFC 1951 section 3.2.3), which repeated
// copy() calls reproduce, doubling the chunk each time.
func copyBack(win *[winSize]byte, wpos, dist, length int) int {
	src := wpos - dist
	if src < 0 {
		// The source starts in the ring's older part, at its end, which
		// lies at or after the destination: copy that part first.
		src += winSize
		n := copy(win[wpos:wpos+length], win[src:])
		wpos += n
		length -= n
		if length == 0 {
			return wpos
		}
		src = 0
	}
	end := wpos + length
	if dist >= length {
		copy(win[wpos:end], win[src:src+length])
		return end
	}
	for wpos < end {
		wpos += copy(win[wpos:end], win[src:wpos])
	}
	return end
}

// huffman decodes a Huffman block (RFC 1951 section 3.2.5) until its end
// of block code or until the window is full. The loop fast path runs while
// 8 input bytes and room for a longest match are at hand: one refill of
// the 64-bit buffer then covers a whole literal/length and distance with
// their extra bits (at most 15+5+15+13 = 48 bits).
func (r *Reader) huffman(s *state) error {
	win := r.win
	if s.copyLen > 0 {
		n := min(s.copyLen, winSize-r.wpos)
		r.wpos = copyBack(win, r.wpos, s.copyDist, n)
		s.copyLen -= n
		if s.copyLen > 0 {
			return nil
		}
	}
	lit, dist := s.lit, s.dist
	histBase := s.base
	for {
		bits, nb := s.bits, s.nb
		ir, iw := s.ir, s.iw
		wpos := r.wpos
		in := s.in[:]
		for ir+8 <= iw && wpos <= winSize-maxMatch {
			bits |= binary.LittleEndian.Uint64(in[ir:]) << nb
			ir += int((63 - nb) >> 3)
			nb |= 56
			e := lit[bits&(1<<litRoot-1)]
			if e&subFlag != 0 {
				e = lit[e>>16+uint32(bits>>litRoot)&(1<<(e&15)-1)]
			}
			n := uint(e & 15)
			if e&(lenFlag|eobFlag|badFlag) == 0 {
				bits >>= n
				nb -= n
				win[wpos] = byte(e >> 16)
				wpos++
				continue
			}
			if e&lenFlag == 0 {
				s.bits, s.nb, s.ir, r.wpos = bits>>n, nb-n, ir, wpos
				if e&badFlag != 0 {
					return s.corrupt()
				}
				s.endBlock()
				return nil
			}
			bits >>= n
			nb -= n
			x := uint(e>>4) & 15
			length := int(e>>16) + int(bits&(1<<x-1))
			bits >>= x
			nb -= x
			e = dist[bits&(1<<distRoot-1)]
			if e&subFlag != 0 {
				e = dist[e>>16+uint32(bits>>distRoot)&(1<<(e&15)-1)]
			}
			n = uint(e & 15)
			bits >>= n
			nb -= n
			if e&badFlag != 0 {
				s.bits, s.nb, s.ir, r.wpos = bits, nb, ir, wpos
				return s.corrupt()
			}
			x = uint(e>>4) & 15
			d := int(e>>16) + int(bits&(1<<x-1))
			bits >>= x
			nb -= x
			if d > histBase+wpos {
				s.bits, s.nb, s.ir, r.wpos = bits, nb, ir, wpos
				return s.corrupt()
			}
			wpos = copyBack(win, wpos, d, length)
		}
		s.bits, s.nb, s.ir, r.wpos = bits, nb, ir, wpos
		if wpos == winSize {
			return nil
		}
		// Slow path: one symbol at a time, near the end of the input
		// buffer or of the window.
		if s.nb < 48 && s.inputEmpty() && r.wpos > s.rpos {
			return nil // serve the output before blocking on src
		}
		if err := s.want(15); err != nil {
			return err
		}
		e, err := s.symbol(lit[:], litRoot)
		if err != nil {
			return err
		}
		if e&(lenFlag|eobFlag) == 0 {
			win[r.wpos] = byte(e >> 16)
			r.wpos++
			continue
		}
		if e&eobFlag != 0 {
			s.endBlock()
			return nil
		}
		x := uint(e>>4) & 15
		if err := s.need(x); err != nil {
			return err
		}
		length := int(e>>16) + int(s.take(x))
		if err := s.want(15); err != nil {
			return err
		}
		if e, err = s.symbol(dist[:], distRoot); err != nil {
			return err
		}
		x = uint(e>>4) & 15
		if err := s.need(x); err != nil {
			return err
		}
		d := int(e>>16) + int(s.take(x))
		if d > histBase+r.wpos {
			return s.corrupt()
		}
		n := min(length, winSize-r.wpos)
		r.wpos = copyBack(win, r.wpos, d, n)
		if n < length {
			s.copyLen, s.copyDist = length-n, d
			return nil
		}
	}
}

// symbol decodes one symbol with the bits at hand, which are all there
// are if fewer than the longest code: an entry that needs more is a
// truncated stream. It returns the table entry.
func (s *state) symbol(t []uint32, root uint) (uint32, error) {
	b := s.bits & (1<<s.nb - 1)
	e := t[b&(1<<root-1)]
	if e&subFlag != 0 {
		e = t[e>>16+uint32(b>>root)&(1<<(e&15)-1)]
	}
	n := uint(e & 15)
	if n == 0 {
		return 0, s.corrupt() // no code
	}
	if n > s.nb {
		return 0, io.ErrUnexpectedEOF
	}
	s.take(n)
	if e&badFlag != 0 {
		return 0, s.corrupt() // a code that must not occur
	}
	return e, nil
}

// drain reads the rest of the payload after a BFINAL block (RFC 7692
// section 7.2.3.4). Only a prefix of an empty stored block may follow, the
// 0x00 that section 7.2.1 leaves in practice; other bytes are data the
// stream would silently drop, so they are corrupt. The syncTail restored
// after the payload is not checked.
func (s *state) drain() error {
	s.take(s.nb & 7)
	pos := s.pos()
	i := 0
	check := func(c byte) error {
		if pos < s.consumed {
			if i == len(emptyStoredBlock) || c != emptyStoredBlock[i] {
				return flate.CorruptInputError(pos)
			}
			i++
		}
		pos++
		return nil
	}
	for s.nb > 0 {
		if err := check(byte(s.take(8))); err != nil {
			return err
		}
	}
	for {
		for _, c := range s.in[s.ir:s.iw] {
			if err := check(c); err != nil {
				return err
			}
		}
		s.ir = s.iw
		if err := s.fill(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
