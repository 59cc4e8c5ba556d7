package starling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/starling-ws/starling/internal/frame"
	"github.com/starling-ws/starling/internal/utf8v"
)

// readState tracks the data message being read.
type readState struct {
	typ       MessageType
	remaining int64 // payload bytes of the current frame not yet read
	pos       int   // offset into the masking key
	size      int64 // message bytes delivered so far
	fragments int
	key       [4]byte
	inMessage bool // a data message has started and its last frame has not been read
	cut       bool // Close discarded the rest of a message a Reader's reader had begun
	compress  bool // the message has RSV1 set (permessage-deflate)
	inflating bool // the decompressor has been reset for this message
	fin       bool // the current frame is the message's last
	masked    bool
	utf8      utf8v.Validator
}

// Read reads the next data message whole. The returned slice is the
// caller's to keep. For messages too large to hold in memory, use Reader;
// to reuse a buffer from one message to the next, use ReadAppend.
//
// If ctx ends while Read waits for a message, Read returns ctx's error
// and the connection stays open. If it ends partway through a message, the
// connection is closed, because the part read cannot be given back.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	return c.ReadAppend(ctx, nil)
}

// ReadAppend reads the next data message whole, appends its payload to dst
// and returns the extended slice, so a caller that passes the same buffer
// each time (as buf[:0]) reads without allocating once the buffer is large
// enough. Otherwise it behaves as Read.
func (c *Conn) ReadAppend(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	if err := c.beginRead(ctx); err != nil {
		return 0, dst, err
	}
	if err := c.awaitMessage(); err != nil {
		return 0, dst, err
	}
	return c.finishAppend(dst)
}

// finishAppend is ReadAppend once awaitMessage has succeeded. It is apart so
// that the deferred endRead does not enlarge ReadAppend's frame, which a
// waiting reader holds (see awaitFrame).
func (c *Conn) finishAppend(dst []byte) (MessageType, []byte, error) {
	defer c.endRead()
	return c.readAppend(dst)
}

// maxReadHint bounds the memory a frame header's length claim makes
// ReadAppend set aside before the payload arrives: without a read limit, a
// claim of 2^62 bytes would otherwise make it panic.
const maxReadHint = 4 << 20

// largePayloadSkew is where the payload of a large message starts in the
// buffer readAppend makes for it (Read's, and ReadSlice's spill buffers):
// not at the buffer's start, which is page-aligned. A server that writes
// the payload back, echoing or relaying it, sends a 10-byte header before
// it, so the kernel copies the payload to pages where it starts 10 bytes
// in, usually; and on AMD Zen CPUs that copy (rep movsb) is several times
// slower when its destination lies 1 to 15 bytes ahead of its source,
// modulo 4 KiB. Starting the payload 10 bytes in too puts them level.
// Measured with the bench module's echo at 1 connection × 1 MiB on an AMD
// EPYC: msgs per server CPU-second about doubled (1.4K to 3.0K).
const largePayloadSkew = 10

// readAppend is ReadAppend once the first frame's header has been read. It
// is apart so that ReadAppend's own frame stays small (see awaitFrame).
func (c *Conn) readAppend(dst []byte) (MessageType, []byte, error) {
	// Size the buffer from the first frame: exact for the usual
	// single-frame message, a start for the others. The length is only
	// the peer's claim, so it is trusted with maxReadHint bytes at most;
	// beyond, the buffer grows as the bytes arrive.
	hint := min(c.rs.remaining, maxReadHint)
	if c.rs.compress {
		hint *= 2
	}
	if free := int64(cap(dst) - len(dst)); free < hint {
		n := int(max(min(hint, c.readLimit.Load()), 64))
		if len(dst) == 0 && n > largeBufferSize {
			dst = make([]byte, largePayloadSkew+n)[largePayloadSkew:largePayloadSkew]
		} else {
			dst = slices.Grow(dst, n)
		}
	}
	b := dst
	for {
		if len(b) == cap(b) {
			// Full: at the message's end, or in need of room.
			if _, err := c.readMessage(b[len(b):]); err == io.EOF {
				return c.rs.typ, b, nil
			} else if err != nil {
				return 0, dst, err
			}
			b = slices.Grow(b, 1)
		}
		n, err := c.readMessage(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return c.rs.typ, b, nil
		}
		if err != nil {
			return 0, dst, err
		}
	}
}

// ReadSlice reads the next data message whole, as Read does, but returns
// its payload in memory the Conn lends instead of a slice of its own: for a
// message that arrived in one frame, the connection's read buffer itself,
// so the payload is not copied at all. The slice is valid only until the
// next call to Read, ReadAppend, ReadSlice, Reader or CloseRead on c; a
// caller that keeps the payload longer must copy it. It suits a loop that
// handles each message before it reads the next, as an echo server does.
func (c *Conn) ReadSlice(ctx context.Context) (MessageType, []byte, error) {
	if err := c.beginRead(ctx); err != nil {
		return 0, nil, err
	}
	if err := c.awaitMessage(); err != nil {
		return 0, nil, err
	}
	return c.finishSlice()
}

// finishSlice is ReadSlice once awaitMessage has succeeded, apart as
// finishAppend is.
func (c *Conn) finishSlice() (MessageType, []byte, error) {
	defer c.endRead()
	return c.readSlice()
}

// readSlice is ReadSlice once the first frame's header has been read.
func (c *Conn) readSlice() (MessageType, []byte, error) {
	rs := &c.rs
	if !rs.fin || rs.compress || rs.remaining > largeBufferSize {
		sp := c.br.borrowSpill()
		typ, p, err := c.readAppend((*sp)[:0])
		*sp = p
		return typ, p, err
	}
	// Unmask and check what has arrived before waiting for more, so that
	// bad text fails as soon as it is certain, as it does with Read.
	n := int(rs.remaining)
	var p []byte
	for done := 0; ; done = len(p) {
		p, _ = c.br.Peek(min(n, c.br.Buffered())) // no I/O
		if rs.masked {
			rs.pos = frame.Mask(rs.key, rs.pos, p[done:])
		}
		if rs.typ == MessageText && !rs.utf8.Write(p[done:]) {
			return 0, nil, c.fail(errInvalidText())
		}
		if len(p) == n {
			break
		}
		if _, err := c.br.Peek(len(p) + 1); err != nil {
			return 0, nil, c.readError(err)
		}
	}
	if rs.typ == MessageText && !rs.utf8.Complete() {
		return 0, nil, c.fail(errInvalidText())
	}
	c.br.lend(n)
	rs.remaining, rs.inMessage = 0, false
	c.stats.messagesRead.Add(1)
	return rs.typ, p, nil
}

// Reader returns the type of the next data message and a reader for its
// payload, which returns io.EOF at the message's end. Control frames that
// arrive meanwhile are handled: pings are answered, and a close frame ends
// the connection with a *CloseError. A message left unread is discarded by
// the next call to Reader. The reader is the message's only until that
// call, or Read's or ReadSlice's: it then reads the next message.
//
// ctx bounds the reads of the message too. If it ends while Reader waits
// for a message, Reader returns ctx's error and the connection stays open;
// if it ends partway through the message, the connection is closed.
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.beginRead(ctx); err != nil {
		return 0, nil, err
	}
	if err := c.awaitMessage(); err != nil {
		return 0, nil, err
	}
	c.endRead()
	return c.rs.typ, (*messageReader)(c), nil
}

// beginRead takes the read lock for a read under ctx. The caller then
// calls awaitMessage, and on success finally endRead. They are two calls,
// not one function making both, so that no frame of beginRead's lies under
// the wait for input (see awaitFrame).
func (c *Conn) beginRead(ctx context.Context) error {
	if err := c.lockRead(ctx); err != nil {
		return err
	}
	c.br.reclaim()
	if err := c.rwatch.begin(c, ctx, c.resumable()); err != nil {
		c.unlockRead()
		return err
	}
	return nil
}

// awaitMessage moves to the start of the next data message, discarding
// what is left of the previous one; if it fails, the read has ended
// (endRead).
func (c *Conn) awaitMessage() error {
	err := c.awaitFrame()
	if err == nil {
		err = c.nextMessage()
	}
	if err != nil {
		c.endRead()
	}
	return err
}

// awaitFrame waits, if nothing is buffered, for the next frame to start
// arriving. An idle connection spends its life here. This wait with the
// read that ends it, and the write of a small message, are the deepest a
// connection's goroutine usually goes; both are kept shallow enough for the
// frames from a handler's loop down to the system call to fit in the
// smallest stack Go gives a goroutine, 2 KiB. Once grown to 4 KiB, the
// stack of a goroutine parked in a read never shrinks back, since the
// collector only halves a stack less than a quarter used.
// TestIdleConnectionCost checks this.
func (c *Conn) awaitFrame() error {
	if c.rs.inMessage || c.br.r < c.br.w {
		return nil
	}
	return c.br.fillEmpty() // small enough to be inlined: a frame less
}

func (c *Conn) endRead() {
	c.flags.set(flagReadAhead, c.br.Buffered() > 0)
	c.rwatch.end(c)
	c.unlockRead()
}

// unlockRead releases the read lock. A read whose context has ended gives
// up reading with the connection still open: if our close frame is out,
// Close may be waiting for this reader to read the peer's answer, and must
// now read it itself (awaitPeerClose).
func (c *Conn) unlockRead() {
	ctx := c.rwatch.ctx
	c.readMu.unlock()
	// Checked after the unlock: a Close that sets flagCloseSent later
	// finds the lock free.
	if c.flags.has(flagCloseSent) && ctx != nil && ctx.Err() != nil && !c.isClosed() {
		c.readLeft.fire(&c.closeMu)
	}
}

// nextMessage skips the rest of the current message, if any, and reads up
// to the first frame of the next.
func (c *Conn) nextMessage() error {
	if c.rs.inMessage {
		if err := c.skipMessage(); err != nil {
			return err
		}
	}
	return c.nextDataFrame()
}

// skipMessage reads the rest of the current message and drops it. It is
// apart from nextMessage, whose frame lies under the wait for the next
// message, so that the copy's temporaries do not enlarge that frame.
func (c *Conn) skipMessage() error {
	// Through readMessage, so a compressed message still updates the
	// shared window and text is still checked.
	_, err := io.Copy(io.Discard, (*messageBody)(c))
	return err
}

// lockRead takes the read lock. A second reader is a misuse, except while
// Close holds the lock to read the peer's close frame: then the reader waits
// and learns how the connection ended.
func (c *Conn) lockRead(ctx context.Context) error {
	if !c.readMu.tryLock() {
		if !c.flags.has(flagCloseSent) {
			return ErrConcurrentRead
		}
		if err := c.readMu.lock(ctx, c); err != nil {
			if c.isClosed() {
				return c.closedError()
			}
			return err
		}
	}
	if c.isClosed() {
		// What is left in the buffer may be the middle of a message the
		// connection was failed in: read as frames, it would report a
		// violation nobody committed.
		c.readMu.unlock()
		return c.closedError()
	}
	return nil
}

// payloadReader and messageBody are a Conn seen as the io.Reader of its
// current message, as on the wire and after decompression: conversions
// that cost no allocation.
type (
	payloadReader Conn
	messageBody   Conn
)

func (r *payloadReader) Read(p []byte) (int, error) { return (*Conn)(r).readPayload(p) }
func (r *messageBody) Read(p []byte) (int, error)   { return (*Conn)(r).readMessage(p) }

// messageReader is the reader Reader returns: the Conn itself, reading
// under the context Reader was given, which rwatch keeps.
type messageReader Conn

// Read reads the current message's payload.
func (r *messageReader) Read(p []byte) (int, error) {
	c := (*Conn)(r)
	ctx := c.rwatch.ctx
	if err := c.lockRead(ctx); err != nil {
		return 0, err
	}
	defer c.readMu.unlock()
	if c.rs.cut {
		return 0, c.cause()
	}
	if err := c.rwatch.begin(c, ctx, c.resumable()); err != nil {
		return 0, err
	}
	defer c.rwatch.end(c)
	return c.readMessage(p)
}

// readMessage reads the current message's payload after decompression,
// checking text for UTF-8 as it goes (RFC 6455 section 8.1), so a bad
// sequence fails the connection with 1007 as soon as it is certain.
func (c *Conn) readMessage(p []byte) (int, error) {
	rs := &c.rs
	var n int
	var err error
	if rs.compress {
		n, err = c.inflate(p)
	} else {
		n, err = c.readPayload(p)
	}
	if rs.typ == MessageText {
		if !rs.utf8.Write(p[:n]) || err == io.EOF && !rs.utf8.Complete() {
			return 0, c.fail(errInvalidText())
		}
	}
	return n, err
}

// errInvalidText is the failure of a text message that is not UTF-8.
func errInvalidText() error {
	return protocolError(StatusInvalidFramePayload, "text message is not valid UTF-8")
}

// touchedReadSize bounds each read of a payload that is unmasked or checked
// for UTF-8 as it arrives, so that it is still in the cache when it is. A
// 1 MiB message then takes 16 read calls. Smaller reads keep it in L1 but
// cost more calls: on an Intel Xeon, 16 KiB against 64 KiB was 10-25 %
// worse at 100 connections × 1 MiB, window 1, and 6-9 % better at window
// 16 (msgs per server CPU-second, bench module); on an AMD EPYC, once
// largePayloadSkew had removed the slow kernel copy, 64 KiB did better
// in all four 1 MiB scenarios, by 10-60 %.
const touchedReadSize = 64 << 10

// readPayload reads the current message's payload as it is on the wire,
// crossing into its continuation frames, and returns io.EOF after the last
// one.
func (c *Conn) readPayload(p []byte) (int, error) {
	rs := &c.rs
	for rs.remaining == 0 {
		if !rs.inMessage {
			return 0, io.EOF
		}
		if rs.fin {
			rs.inMessage = false
			c.stats.messagesRead.Add(1)
			return 0, io.EOF
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > rs.remaining {
		p = p[:rs.remaining]
	}
	if len(p) > touchedReadSize && (rs.masked || rs.typ == MessageText) {
		p = p[:touchedReadSize]
	}
	n, err := c.br.Read(p)
	rs.remaining -= int64(n)
	if rs.masked {
		rs.pos = frame.Mask(rs.key, rs.pos, p[:n])
	}
	if err != nil {
		if e := c.keptOpen(err); e != nil {
			return n, e
		}
		return n, c.readError(err)
	}
	return n, nil
}

// nextDataFrame reads frames until the header of a data frame, handling
// control frames on the way, and checks it against the message in progress
// (RFC 6455 section 5.4).
func (c *Conn) nextDataFrame() error {
	for {
		h, err := c.readHeader()
		if err != nil {
			return err
		}
		if !h.Opcode.IsControl() {
			return c.startDataFrame(&h)
		}
		if err := c.handleControl(h); err != nil {
			return err
		}
	}
}

// startDataFrame checks the header h of a data frame against the message
// in progress and starts reading the frame. It is apart from
// nextDataFrame, whose frame lies under the read of a header, so that its
// errors' making does not enlarge that frame.
func (c *Conn) startDataFrame(h *frame.Header) error {
	rs := &c.rs
	switch {
	case h.Opcode == frame.OpContinuation && !rs.inMessage:
		return c.fail(protocolError(StatusProtocolError, "continuation frame without a message to continue"))
	case h.Opcode != frame.OpContinuation && rs.inMessage:
		return c.fail(protocolError(StatusProtocolError, "new data frame before the previous message's last fragment"))
	}
	if h.Opcode != frame.OpContinuation {
		*rs = readState{inMessage: true, typ: MessageType(h.Opcode), compress: h.Rsv1}
	} else if h.Rsv1 {
		return c.fail(protocolError(StatusProtocolError, "RSV1 set on a continuation frame"))
	}
	rs.fragments++
	if rs.fragments > c.maxFragments {
		return c.fail(protocolError(StatusMessageTooBig, "message has more than %d fragments", c.maxFragments))
	}
	if limit := c.wireLimit(); h.Length > limit-rs.size {
		return c.fail(&failure{ce: CloseError{Code: StatusMessageTooBig, Reason: fmt.Sprintf("message exceeds %d bytes", limit)}, err: ErrMessageTooBig})
	}
	rs.size += h.Length
	rs.fin, rs.remaining = h.Fin, h.Length
	rs.masked, rs.key, rs.pos = h.Masked, h.Key, 0
	return nil
}

// wireLimit bounds a message's size on the wire: the read limit, with room
// for deflate's framing when the message is compressed (its decompressed
// size is checked as it inflates).
func (c *Conn) wireLimit() int64 {
	limit := c.readLimit.Load()
	if c.rs.compress && limit < math.MaxInt64/2 {
		limit += limit/1024 + 64
	}
	return limit
}

// readHeader reads and checks one frame header (RFC 6455 section 5.2).
func (c *Conn) readHeader() (frame.Header, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return frame.Header{}, c.headerError(err)
	}
	// Decode what is buffered of the longest header, not just the two
	// bytes that give its length: a client's header is at least six
	// bytes (the masking key), and would otherwise be decoded twice.
	if m := min(c.br.Buffered(), frame.MaxHeaderSize); m > len(b) {
		b, _ = c.br.Peek(m) // no I/O
	}
	h, n, err := frame.Decode(b)
	if errors.Is(err, frame.ErrShortHeader) {
		if b, err = c.br.Peek(n); err != nil {
			return frame.Header{}, c.readError(err)
		}
		h, n, err = frame.Decode(b)
	}
	if err != nil {
		return h, c.badHeader(err)
	}
	c.br.Discard(n)
	return h, c.checkHeader(&h)
}

// badHeader fails the connection for a header frame.Decode rejected with
// err. It is apart from readHeader, whose frame lies under the read of a
// header, so that making the error does not enlarge that frame.
func (c *Conn) badHeader(err error) error {
	if errors.Is(err, frame.ErrLengthTooHigh) {
		// Also a section 5.2 violation, but what the peer attempted is a
		// message larger than anything this side accepts.
		return c.fail(protocolError(StatusMessageTooBig, "frame length exceeds 2^63-1 bytes"))
	}
	return c.fail(protocolError(StatusProtocolError, "%s", err.Error()[len("frame: "):]))
}

// readingMore is called before each read from the network: the reader is
// no longer ahead of its input, so frames gathered for a batch go now. The
// idle deadline moves too, if it is due: a peer whose message is still
// arriving, or whose reader takes its time between the reads of a
// message, is not idle.
func (c *Conn) readingMore() {
	if c.x != nil {
		c.armIdleDeadline()
	}
	if c.flags.has(flagReadAhead) || c.flags.has(flagBatched) {
		c.flags.set(flagReadAhead, false)
		c.flushBatch()
	}
}

// headerError is readError for a read that waited for a frame header, which
// fails with 1001 when the idle timeout ran out.
func (c *Conn) headerError(err error) error {
	if e := c.keptOpen(err); e != nil {
		return e
	}
	if c.x != nil && c.x.idleTimeout > 0 && errors.Is(err, os.ErrDeadlineExceeded) && !c.isClosed() {
		return c.fail(protocolError(StatusGoingAway, "idle for %v", c.x.idleTimeout))
	}
	return c.readError(err)
}

// armIdleDeadline makes reads from the network fail once nothing has
// arrived for the idle timeout; readingMore calls it before each. Like
// armWriteDeadline, it moves the deadline only when it is due. Once our
// close frame is out, the close handshake's own deadlines
// bound the reads, and an idle timeout longer than them must not stretch
// them.
func (c *Conn) armIdleDeadline() {
	x := c.x
	if x == nil || x.idleTimeout <= 0 || c.flags.has(flagCloseSent) || !due(x.idleArmed, x.idleTimeout) {
		return
	}
	if x.idleHeld {
		if c.stats.bytesRead.Load() == x.idleBytes {
			return // nothing has arrived since a read was cut short
		}
		x.idleHeld = false
	}
	if d := c.deadlines(); d != nil {
		x.idleArmed = sinceStart()
		c.setReadDeadline(d, time.Now().Add(x.idleTimeout))
	}
}

// checkHeader applies the rules a header must follow regardless of where in
// a message it stands.
func (c *Conn) checkHeader(h *frame.Header) error {
	switch {
	case !h.Opcode.IsKnown():
		return c.fail(protocolError(StatusProtocolError, "reserved opcode %#x", byte(h.Opcode)))
	case h.Rsv2 || h.Rsv3:
		// Section 5.2: no extension we negotiate defines RSV2 or RSV3.
		return c.fail(protocolError(StatusProtocolError, "reserved bit RSV2 or RSV3 set"))
	case h.Rsv1 && (c.ext == nil || h.Opcode.IsControl()):
		// RFC 7692 section 6: RSV1 marks a compressed data message only.
		return c.fail(protocolError(StatusProtocolError, "reserved bit RSV1 set without a negotiated extension defining it"))
	case c.client && h.Masked:
		// Section 5.1: a client must fail on a masked frame.
		return c.fail(protocolError(StatusProtocolError, "masked frame from the server"))
	case !c.client && !h.Masked:
		return c.fail(protocolError(StatusProtocolError, "unmasked frame from the client"))
	case h.Opcode.IsControl() && !h.Fin:
		// Section 5.5: control frames must not be fragmented.
		return c.fail(protocolError(StatusProtocolError, "fragmented control frame"))
	case h.Opcode.IsControl() && h.Length > frame.MaxControlPayload:
		return c.fail(protocolError(StatusProtocolError, "control frame payload of %d bytes exceeds 125", h.Length))
	}
	return nil
}

// readError turns an error from the underlying reader into the error the
// caller sees: the connection's end if it was closed here, else an abnormal
// closure (RFC 6455 section 7.1.5: no close frame means 1006). A read cut
// short by its context where it cannot resume (see keptOpen) ends the
// connection with the context's error.
func (c *Conn) readError(err error) error {
	if ie, ok := err.(*interruptedError); ok {
		c.shutdown(ie.err)
	}
	if c.isClosed() {
		return c.cause()
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	ce := &CloseError{Code: StatusAbnormalClosure}
	e := fmt.Errorf("starling: connection closed without a close frame: %w: %w", ce, err)
	c.shutdown(e)
	return e
}
