package starling

import (
	"io"
	"sync"

	"github.com/starling-ws/starling/internal/frame"
)

// Buffers. An idle connection should cost little memory, so a connection
// owns only a small read buffer; a large one is borrowed from a pool while
// traffic is heavy, and write buffers are borrowed for each frame.
const (
	smallReadBuffer = 512
	largeBufferSize = 16 << 10
)

var largeReadBuffers = sync.Pool{New: func() any { b := make([]byte, largeBufferSize); return &b }}

var writeBuffers = sync.Pool{New: func() any { b := make([]byte, frame.MaxHeaderSize+writeBufferSize); return &b }}

// readBuffer is a buffered reader that holds no large buffer while the
// connection carries small messages or none. It reads into its own small
// array; when a read fills the buffer, more is probably waiting, so it
// borrows a large buffer until a read brings less than the small array
// holds. Reads of at
// least smallReadBuffer bytes into an empty buffer go straight to the
// caller's slice.
type readBuffer struct {
	rd    io.Reader
	buf   []byte // small[:] or *large
	large *[]byte
	r, w  int
	hot   bool // the last read filled the buffer or outgrew the small one
	small [smallReadBuffer]byte
}

func (b *readBuffer) init(rd io.Reader, early []byte) {
	b.rd = rd
	b.buf = b.small[:]
	if len(early) > 0 {
		b.ensure(len(early))
		b.w = copy(b.buf, early)
	}
}

// Buffered returns the number of bytes that can be read without I/O.
func (b *readBuffer) Buffered() int { return b.w - b.r }

// ensure makes room for n bytes from b.r on.
func (b *readBuffer) ensure(n int) {
	if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if n > len(b.buf) || b.hot && b.large == nil {
		large := largeReadBuffers.Get().(*[]byte)
		if n > len(*large) {
			*large = make([]byte, n)
		}
		b.w = copy(*large, b.buf[:b.w])
		b.buf, b.large = *large, large
	}
}

// release returns the large buffer when nothing is buffered in it.
func (b *readBuffer) release() {
	if b.large != nil && b.r == b.w && !b.hot {
		largeReadBuffers.Put(b.large)
		b.large, b.buf, b.r, b.w = nil, b.small[:], 0, 0
	}
}

// fill reads at least once into the free space.
func (b *readBuffer) fill() error {
	b.release()
	n, err := b.rd.Read(b.buf[b.w:])
	// Keep the large buffer while reads fill the buffer or outgrow the
	// small one: giving it back would cost a second read per message.
	b.hot = b.w+n == len(b.buf) || n > smallReadBuffer
	b.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// fillEmpty reads at least once into the buffer, which must be empty.
func (b *readBuffer) fillEmpty() error {
	b.r, b.w = 0, 0
	b.ensure(0)
	return b.fill()
}

// Peek returns the next n bytes without consuming them.
func (b *readBuffer) Peek(n int) ([]byte, error) {
	if b.w-b.r < n {
		b.ensure(n)
		for b.w-b.r < n {
			if err := b.fill(); err != nil {
				return b.buf[b.r:b.w], err
			}
		}
	}
	return b.buf[b.r : b.r+n], nil
}

// Discard consumes n bytes, which must have been peeked.
func (b *readBuffer) Discard(n int) { b.r += n }

// Read reads up to len(p) bytes.
func (b *readBuffer) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		b.r, b.w = 0, 0
		if len(p) >= smallReadBuffer {
			b.release()
			return b.rd.Read(p)
		}
		b.ensure(0)
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}
