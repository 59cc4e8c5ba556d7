package wsflate

import "sync"

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

// rotateScratch lends the half-window buffers bytes needs for a moment, so
// that a connection keeps only its 32 KiB ring.
var rotateScratch = sync.Pool{New: func() any { return new([windowSize / 2]byte) }}

// bytes returns the history oldest first, rotating the ring in place. The
// slice is valid until the next write.
func (w *window) bytes() []byte {
	if !w.full {
		return w.buf[:w.pos]
	}
	if w.pos != 0 {
		// The ring is newest = buf[:pos] then oldest = buf[pos:]; swap the
		// two parts, parking the smaller one in scratch.
		tmp := rotateScratch.Get().(*[windowSize / 2]byte)
		newest, oldest := w.pos, len(w.buf)-w.pos
		if newest <= oldest {
			copy(tmp[:], w.buf[:newest])
			copy(w.buf, w.buf[newest:])
			copy(w.buf[oldest:], tmp[:newest])
		} else {
			copy(tmp[:], w.buf[newest:])
			copy(w.buf[oldest:], w.buf[:newest])
			copy(w.buf, tmp[:oldest])
		}
		rotateScratch.Put(tmp)
		w.pos = 0
	}
	return w.buf
}
