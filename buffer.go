package starling

import (
	"io"
	"sync"
	"syscall"

	"github.com/starling-ws/starling/internal/frame"
	"github.com/starling-ws/starling/internal/sysio"
)

// Buffers. An idle connection should cost little memory, so a connection
// owns no buffer: it borrows a small read buffer for each burst of traffic,
// a large one while traffic is heavy, and a write buffer for each frame.
// The large one holds several 16 KiB frames, so that a stream of them takes
// a fraction of a read call each, not two; a connection only borrows it
// while the kernel holds at least as much of its input.
const (
	smallReadBuffer = 512
	largeBufferSize = 64 << 10
)

// The read buffers' pools have no New: makeRoom makes a buffer when its
// pool has none, unless it is called by the wait for input (rawReadFunc).
var smallReadBuffers, largeReadBuffers sync.Pool

// writeBuffer is a buffer for a frame's header and a small payload.
type writeBuffer struct {
	buf []byte
}

var writeBuffers = sync.Pool{New: func() any { return &writeBuffer{buf: make([]byte, frame.MaxHeaderSize+writeBufferSize)} }}

// readBuffer is a buffered reader that holds a buffer only while data is
// in flight. On a transport that can wait for data without a buffer (a TCP
// or Unix socket, see rawConn), the wait for the next frame holds none at
// all; on others it holds a small one. When a read fills the buffer, more
// is probably waiting, so it moves to a large buffer until a read brings
// less than the small one holds. Reads of at least smallReadBuffer bytes
// into an empty buffer go straight to the caller's slice.
//
// It reads c.rwc of the Conn c it belongs to, and calls c.readingMore
// before each read. It is part of the Conn rather than a reader of its
// own so that an idle connection costs as few bytes as possible.
type readBuffer struct {
	buf  []byte  // *held, or nil
	held *[]byte // from smallReadBuffers or largeReadBuffers
	r, w int
	hot  bool // the last read filled the buffer or outgrew the small one
	lent bool // ReadSlice lent bytes of buf before r
	// starved is set when the wait for input found data but no pooled
	// buffer to read it into (see rawReadFunc).
	starved bool
	// spill is the buffer ReadSlice lent for a message buf could not
	// hold, from spillBuffers, or nil.
	spill *[]byte
	c     *Conn
}

func (b *readBuffer) init(c *Conn, early []byte) {
	b.c = c
	if c.sock != nil {
		c.sock.waitFn = b.rawReadFunc()
	}
	if len(early) > 0 {
		b.ensure(len(early))
		b.w = copy(b.buf, early)
		c.stats.bytesRead.Add(int64(b.w))
	}
}

// spillBuffers hold the messages ReadSlice cannot lend from the read
// buffer: fragmented, compressed or larger than it.
var spillBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledSpill is the largest spill buffer given back to the pool. A pool
// keeps what it is given until two collections have passed, so the buffers
// of rare huge messages are left to the collector at once.
const maxPooledSpill = 4 << 20

// lend consumes the n bytes Peek returned and marks them lent: they stay
// as they are until reclaim or detach.
func (b *readBuffer) lend(n int) {
	b.r += n
	b.lent = true
}

// borrowSpill returns the buffer to lend a message in, for the caller to
// read into and leave holding the message, until reclaim.
func (b *readBuffer) borrowSpill() *[]byte {
	b.spill = spillBuffers.Get().(*[]byte)
	return b.spill
}

// reclaim takes back what ReadSlice lent: the reading goroutine calls it
// at its next read, when the caller is done with those bytes.
func (b *readBuffer) reclaim() {
	b.lent = false
	if b.spill != nil && cap(*b.spill) <= maxPooledSpill {
		spillBuffers.Put(b.spill)
	}
	b.spill = nil
}

// detach is reclaim for a read that does not know whether the caller is
// done with what ReadSlice lent (Close, reading the peer's close frame
// from another goroutine): the unread bytes move to a buffer of their own
// and the lent memory is left to the garbage collector, never reused.
func (b *readBuffer) detach() {
	b.spill = nil
	if !b.lent {
		return
	}
	b.lent = false
	rest := b.buf[b.r:b.w]
	b.buf, b.held, b.r, b.w = nil, nil, 0, 0
	if len(rest) > 0 {
		b.ensure(len(rest))
		b.w = copy(b.buf, rest)
	}
}

// Buffered returns the number of bytes that can be read without I/O.
func (b *readBuffer) Buffered() int { return b.w - b.r }

// large reports whether the buffer held is a large one.
func (b *readBuffer) large() bool { return len(b.buf) > smallReadBuffer }

// ensure makes room for n bytes, and at least one, from b.r on.
func (b *readBuffer) ensure(n int) { b.makeRoom(n, true) }

// makeRoom is ensure. Without alloc it borrows only a pooled buffer, and
// reports false, having changed nothing, if it would have to make one.
func (b *readBuffer) makeRoom(n int, alloc bool) bool {
	n = max(n, 1)
	pool, size := &smallReadBuffers, smallReadBuffer
	switch {
	case n > len(b.buf) && n <= smallReadBuffer && !b.hot:
		// a small buffer, as set above
	case n > len(b.buf) || b.hot && !b.large():
		pool, size = &largeReadBuffers, max(n, largeBufferSize)
	default:
		b.compact() // the buffer held has room
		return true
	}
	p, _ := pool.Get().(*[]byte)
	if p == nil {
		if !alloc {
			return false
		}
		buf := make([]byte, size)
		p = &buf
	}
	if n > len(*p) {
		*p = make([]byte, n)
	}
	b.compact()
	b.swap(p)
	return true
}

// compact moves the unread bytes to the buffer's start.
func (b *readBuffer) compact() {
	if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
}

// swap moves what is buffered into p, which becomes the buffer held.
func (b *readBuffer) swap(p *[]byte) {
	b.w = copy(*p, b.buf[:b.w])
	b.drop()
	b.buf, b.held = *p, p
}

// drop gives back the buffer held; what it holds is lost.
func (b *readBuffer) drop() {
	switch {
	case b.held == nil:
	case b.large():
		largeReadBuffers.Put(b.held)
	default:
		smallReadBuffers.Put(b.held)
	}
	b.buf, b.held = nil, nil
}

// release gives back the buffer when nothing is in it, unless traffic is
// heavy.
func (b *readBuffer) release() {
	if b.r == b.w && !b.hot {
		b.r, b.w = 0, 0
		b.drop()
	}
}

// fill reads at least once into the free space, which must not be empty.
func (b *readBuffer) fill() error {
	b.c.readingMore()
	n, err := b.c.recv(b.buf[b.w:])
	return b.filled(n, err)
}

// filled accounts for a read of n bytes into the free space.
func (b *readBuffer) filled(n int, err error) error {
	// Keep the large buffer while reads fill the buffer or outgrow the
	// small one: giving it back would cost a second read per message.
	b.hot = b.w+n == len(b.buf) || n > smallReadBuffer
	b.w += n
	b.c.stats.bytesRead.Add(int64(n))
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// fillEmpty waits for a frame and reads what has arrived of it into the
// buffer, which must be empty; it returns the Conn's headerError for a
// failure. This is where an idle connection waits: through the raw
// connection when there is one, it holds no buffer while it waits.
func (b *readBuffer) fillEmpty() error {
	s := b.c.sock
	if s == nil {
		// This read may wait for long, so it waits with the small
		// buffer. (Over TLS, the usual transport here, a read returns
		// at most one record anyway, decrypted in the TLS connection's
		// own buffer: starting small costs no system call.)
		b.hot = false
		b.release()
		b.ensure(0)
		if err := b.fill(); err != nil { // calls readingMore
			return b.c.headerError(err)
		}
		return nil
	}
	b.release()
	b.r, b.w = 0, 0
	b.c.readingMore()
	for {
		err := s.rc.Read(s.waitFn)
		switch {
		case err == nil && b.starved:
			// Make the buffer here, where the allocator's frames fit
			// in a 2 KiB stack, and read again.
			b.starved = false
			b.ensure(0)
			continue
		case err == nil:
			err = s.rerr
			s.rerr = nil
		case b.c.flags.has(flagReadInterrupted):
			if err = b.c.takeReadInterrupt(err); err == nil {
				continue
			}
		}
		if err != nil {
			return b.c.headerError(err)
		}
		return nil
	}
}

// rawReadFunc returns the function the raw connection calls with its
// descriptor while fillEmpty waits: it reads into a borrowed buffer, or
// gives the buffer back and reports false if there is nothing to read yet,
// to be called again when there is.
//
// It runs at the bottom of the deepest stack a connection's goroutine
// goes down in its usual life, which decides whether that goroutine keeps
// Go's 2 KiB starting stack or grows it to 4 KiB for good: a goroutine
// parked in a read never uses little enough of a larger stack for the
// collector to shrink it. So it is a closure rather than a method value,
// which would call the method from a wrapper, and it does not allocate:
// when its pool has no buffer, it sets starved and fillEmpty makes one.
func (b *readBuffer) rawReadFunc() func(uintptr) bool {
	return func(fd uintptr) bool {
		if !b.makeRoom(0, false) {
			b.starved = true
			return true
		}
		n, err := sysio.Read(fd, b.buf)
		if err == syscall.EAGAIN {
			// Wait holding no buffer, even while traffic is heavy: hot
			// still has the next read borrow a large one at once.
			b.drop()
			return false
		}
		switch {
		case err != nil:
			err = b.c.opError("read", err)
		case n == 0:
			err = io.EOF
		}
		b.c.sock.rerr = b.filled(n, err)
		return true
	}
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
			b.c.readingMore()
			n, err := b.c.recv(p)
			b.c.stats.bytesRead.Add(int64(n))
			return n, err
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
