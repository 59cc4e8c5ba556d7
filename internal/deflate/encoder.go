// Package deflate is a DEFLATE encoder (RFC 1951) made for WebSocket
// messages (RFC 7692): a stream of messages, each ended by a sync flush,
// with or without a window that outlives the message (context takeover).
//
// compress/flate keeps about 1.2 MB per flate.Writer whatever its level
// and cannot be given a new window at BestSpeed, so a connection that
// keeps its context pays that much. An Encoder keeps only what the
// window needs: the last window bytes it compressed, the input of the
// message in progress and a 2^12-entry table of 16-bit positions, about
// 49 KB at the full 32 KiB window. A window of any size up to 32 KiB is
// honoured exactly, so the smaller windows of RFC 7692 section 7.1.2,
// or a sender's own choice to remember less, cost less and keep context
// too. Tokens and Huffman codes are scratch from a pool, held only while
// a message is being compressed.
//
// Matching is greedy, one hash table entry per 6-byte prefix, much like
// compress/flate's BestSpeed; each block gets dynamic or fixed Huffman
// codes, or goes out stored, whichever is shortest, so incompressible
// data grows by 5 bytes per block at most.
package deflate

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// MaxWindow is the largest DEFLATE window (RFC 1951 section 2).
const MaxWindow = 1 << 15

const (
	tableBits = 12
	tableSize = 1 << tableBits

	// keptSlack is input room beyond the window in the buffer an Encoder
	// with context takeover keeps: a message up to this size is gathered
	// whole before matching, and larger input slides the window once per
	// keptSlack bytes. Windows under keptSlack get as much room as their
	// size, but at least minSlack, which leaves room for input after the
	// maxMatch+8 bytes that wait unmatched at the end of a piece.
	keptSlack = 8 << 10
	minSlack  = 2 << 10

	// pooledSlack is the same for the pooled buffers of an Encoder that
	// keeps no context, which can afford fewer slides.
	pooledSlack = 64 << 10

	// skipLog sets how fast the matcher skips through data it finds no
	// match in: after 2^skipLog bytes without one it tests every second
	// position, and so on.
	skipLog = 5
)

// Encoder compresses the messages of one direction of one connection:
// any number of Writes, then Flush, for each message. Output is appended
// to the caller's slice (unlike append, the bytes of its spare capacity
// just past the result may be written too: bits leave eight bytes at a
// time); a message's output is complete only after its Flush. An Encoder
// is not safe for concurrent use.
type Encoder struct {
	window int      // how far back a match may reach, 1..MaxWindow
	keep   bool     // context takeover: the history outlives the message
	h      *history // kept with context takeover; pooled otherwise
	blk    *block   // the block in progress, while a message is
	start  uint32   // the stream position of the block's first byte
	bw     bitWriter
}

// history is the window and the input not matched yet, contiguous, with
// the hash table that indexes it.
type history struct {
	buf   []byte // buf[:enc] is matched; buf[enc:] waits for matching
	enc   int
	base  uint32 // the stream position of buf[0], for the table
	table [tableSize]uint16
}

var (
	blockPool   = sync.Pool{New: func() any { return newBlock() }}
	historyPool sync.Pool // *history with buffers of MaxWindow+pooledSlack
)

// NewEncoder returns an Encoder whose matches reach at most window bytes
// back (clamped to 1..MaxWindow). With contextTakeover the window
// carries over from one message to the next (RFC 7692 section 7.2.1), and
// the Encoder keeps it between messages; without, every message starts
// afresh and an idle Encoder holds no buffer.
func NewEncoder(window int, contextTakeover bool) *Encoder {
	return &Encoder{window: min(max(window, 1), MaxWindow), keep: contextTakeover}
}

// Window returns how far back the Encoder's matches reach.
func (e *Encoder) Window() int { return e.window }

// Write compresses p as part of the current message and returns dst with
// whatever compressed bytes are ready appended.
func (e *Encoder) Write(dst, p []byte) []byte {
	e.begin(dst)
	h := e.h
	for len(p) > 0 {
		if len(h.buf) == cap(h.buf) && !e.grow(len(p)) {
			e.match(false)
			e.saveStored()
			h.slide(e.window)
		}
		n := min(len(p), cap(h.buf)-len(h.buf))
		h.buf = append(h.buf, p[:n]...)
		p = p[n:]
	}
	return e.end()
}

// Flush ends the current message, as a sync flush whose final 00 00 ff ff
// is left out (RFC 7692 section 7.2.1), and returns dst with the rest of
// the message's bytes appended. A message without input is the single
// byte 0x00.
func (e *Encoder) Flush(dst []byte) []byte {
	e.begin(dst)
	e.match(true)
	if len(e.blk.tokens) > 0 {
		e.writeBlock()
	}
	// The sync flush is an empty stored block (BFINAL 0, BTYPE 00): its
	// header bits, then padding to a byte, then the LEN and NLEN that
	// RFC 7692 drops.
	e.bw.put(0, 3)
	e.bw.align()
	dst = e.end()
	blockPool.Put(e.blk)
	e.blk = nil
	if !e.keep {
		historyPool.Put(e.h)
		e.h = nil
	}
	return dst
}

// Reset forgets the window: the next message refers to nothing before it.
// A message in progress is dropped.
func (e *Encoder) Reset() {
	if e.blk != nil {
		e.blk.reset()
		blockPool.Put(e.blk)
		e.blk = nil
	}
	e.bw = bitWriter{}
	if e.h != nil {
		e.h.buf, e.h.enc = e.h.buf[:0], 0
		if !e.keep {
			historyPool.Put(e.h)
			e.h = nil
		}
	}
}

// begin readies the Encoder to append to dst, taking its scratch.
func (e *Encoder) begin(dst []byte) {
	if e.h == nil {
		if e.keep {
			e.h = new(history)
		} else if h, ok := historyPool.Get().(*history); ok {
			h.buf, h.enc = h.buf[:0], 0
			e.h = h
		} else {
			e.h = &history{buf: make([]byte, 0, MaxWindow+pooledSlack)}
		}
	}
	if e.blk == nil {
		e.blk = blockPool.Get().(*block)
		e.start = e.h.base + uint32(e.h.enc)
	}
	e.bw.out = dst
}

// saveStored writes the block in progress now if the slide about to
// happen would drop input it stands for and it is shortest stored: after
// the slide it could only be Huffman coded. Only a block of nearly all
// literals can be, so others are not costed.
func (e *Encoder) saveStored() {
	h, b := e.h, e.blk
	drop := h.enc - e.window
	if drop <= 0 || len(b.tokens)*8 < b.size*7 || int64(e.start-h.base) >= int64(drop) {
		return
	}
	if raw := e.blockInput(); raw != nil && b.storedShortest(&e.bw, raw) {
		e.writeBlock()
	}
}

// writeBlock writes the block in progress, offering it its input for a
// stored block.
func (e *Encoder) writeBlock() {
	raw := e.blockInput()
	e.start += uint32(e.blk.size)
	e.blk.write(&e.bw, raw)
}

// blockInput returns the input the block in progress stands for, or nil
// if the history no longer holds all of it (positions wrap, so input
// that slid out gives an offset beyond the buffer).
func (e *Encoder) blockInput() []byte {
	off := e.start - e.h.base
	if uint64(off)+uint64(e.blk.size) > uint64(len(e.h.buf)) {
		return nil
	}
	return e.h.buf[off:][:e.blk.size]
}

func (e *Encoder) end() []byte {
	dst := e.bw.out
	e.bw.out = nil
	return dst
}

// grow enlarges a kept history's buffer, which starts small so that a
// connection sending little holds little, for need more bytes; it reports
// false once the buffer has its full size.
func (e *Encoder) grow(need int) bool {
	h := e.h
	full := e.window + min(keptSlack, max(e.window, minSlack))
	if !e.keep || cap(h.buf) >= full {
		return false
	}
	buf := make([]byte, len(h.buf), min(full, max(2*cap(h.buf), len(h.buf)+need, 1024)))
	copy(buf, h.buf)
	h.buf = buf
	return true
}

// slide drops what lies beyond the window before the unmatched input, to
// make room for more input.
func (h *history) slide(window int) {
	d := h.enc - window
	if d <= 0 {
		return
	}
	h.buf = h.buf[:copy(h.buf, h.buf[d:])]
	h.enc -= d
	h.base += uint32(d)
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// hash6 hashes the 6 bytes at b[i:], which must have 8. Keyed on 6
// bytes rather than 4, the table is not crowded out by the short
// sequences text repeats everywhere (`":"`, `", "`) and keeps the longer
// contexts long matches start from: on JSON of 16 KiB and more this
// compresses 9–11 % better at the same speed (BenchmarkEncode).
func hash6(b []byte, i int) uint32 { return hash6of(load64(b, i)) }

// hash6of is hash6 of the 8 bytes v holds, little-endian.
func hash6of(v uint64) uint32 { return uint32((v << 16) * 0xcf1bbcdcb7a56463 >> (64 - tableBits)) }

// matchLen returns how many leading bytes a and b share; len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		if x := load64(a, n) ^ load64(b, n); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
