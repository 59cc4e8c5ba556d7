package wsflate

import "slices"

// windowSize is the largest LZ77 window, 2^15 bytes (RFC 7692 section
// 7.1.2). The decompressor accepts every window, so it keeps this much.
const windowSize = 1 << MaxWindowBits

// window is a ring buffer of the last windowSize bytes a Decompressor
// produced: the dictionary the next message may refer to when the peer uses
// context takeover (RFC 7692 section 7.2.2).
type window struct {
	buf  []byte // len windowSize once allocated
	pos  int    // next write position
	full bool   // buf has wrapped: all of it is history
}

func (w *window) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if w.buf == nil {
		w.buf = make([]byte, windowSize)
	}
	if len(p) >= len(w.buf) {
		copy(w.buf, p[len(p)-len(w.buf):])
		w.pos, w.full = 0, true
		return
	}
	n := copy(w.buf[w.pos:], p)
	if n < len(p) {
		w.pos = copy(w.buf, p[n:])
		w.full = true
		return
	}
	w.pos += n
	if w.pos == len(w.buf) {
		w.pos, w.full = 0, true
	}
}

// bytes returns the history oldest first, rotating the ring in place so no
// second buffer is needed. The slice is valid until the next write.
func (w *window) bytes() []byte {
	if !w.full {
		return w.buf[:w.pos]
	}
	if w.pos != 0 {
		slices.Reverse(w.buf[:w.pos])
		slices.Reverse(w.buf[w.pos:])
		slices.Reverse(w.buf)
		w.pos = 0
	}
	return w.buf
}
