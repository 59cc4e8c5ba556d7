package starling

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"github.com/starling-ws/starling/internal/frame"
	"github.com/starling-ws/starling/internal/utf8v"
	"github.com/starling-ws/starling/internal/wsflate"
)

// ErrInvalidUTF8 is returned when a text message to be written is not valid
// UTF-8. Write then sends nothing; a Writer whose earlier fragments have
// already left fails the connection with 1011 (internal error), since the
// peer is mid-message.
var ErrInvalidUTF8 = errors.New("starling: text message is not valid UTF-8")

// fragmentSize is the payload size of the frames a streaming Writer emits.
const fragmentSize = 32 << 10

// largeBuffers holds Writer's fragments.
var largeBuffers = sync.Pool{New: func() any { b := make([]byte, frame.MaxHeaderSize+fragmentSize); return &b }}

// maskBuffers holds a client's scratch space for masking payloads larger
// than a write buffer: large enough that a 1 MiB message leaves in four
// write calls rather than thirty-two.
var maskBuffers = sync.Pool{New: func() any { b := make([]byte, frame.MaxHeaderSize+256<<10); return &b }}

// Write writes p as one message of type typ. It may be called from any
// number of goroutines at once; messages never interleave.
//
// A server whose peer pipelines its messages gathers small frames while
// more input is already buffered, and sends them together before its
// reader next waits for input, or within 100µs if the reader does not come
// back: Write may then return before the message is handed to the network,
// and a failure to send it closes the connection. Close and CloseNow send
// what is gathered first.
//
// If ctx ends while the message is being written the connection is
// closed, because a frame written halfway cannot be taken back; if it ends
// before the message began to leave, Write just returns its error.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	return c.write(ctx, typ, p, false)
}

// write is Write. With stream (NetConn's writes), a context that ends
// while an uncompressed frame is partly written leaves its rest to be sent
// before the next frame, and write returns an *interruptedError.
func (c *Conn) write(ctx context.Context, typ MessageType, p []byte, stream bool) error {
	if err := checkType(typ); err != nil {
		return err
	}
	if typ == MessageText && !utf8v.Valid(p) {
		return ErrInvalidUTF8
	}
	if err := c.msgMu.lock(ctx, c); err != nil {
		return c.lockError(err)
	}
	if c.shouldCompress(len(p)) {
		return c.writeCompressed(ctx, typ, p)
	}
	// No defers: they would make this frame larger, and the write's
	// depth decides, with the read's, whether a connection's goroutine
	// needs more than Go's 2 KiB starting stack (see awaitFrame).
	c.flags.set(flagStreamWrite, stream)
	err := c.beginFrame(ctx, messageStart) // writeFrame's work, a frame less deep
	if err == nil {
		if err = c.writeFrameLocked(true, frame.Opcode(typ), false, p); err == nil {
			c.stats.messagesWritten.Add(1) // or joined a batch, which the next write sends
		}
		err = c.endFrame(err)
	}
	c.flags.set(flagStreamWrite, false)
	c.msgMu.unlock()
	return err
}

// writeCompressed writes p as one compressed message of type typ, whose
// text write has checked. msgMu is held; the writer's Close releases it.
// It is a function of its own so that uncompressed writes go down a
// shallower stack.
func (c *Conn) writeCompressed(ctx context.Context, typ MessageType, p []byte) error {
	if c.mw == nil {
		c.mw = new(messageWriter)
	}
	w, err := c.startMessage(ctx, c.mw, typ, true)
	if err != nil {
		return err
	}
	w.utf8 = nil // checked by write
	if _, err := w.Write(p); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func checkType(typ MessageType) error {
	if typ != MessageText && typ != MessageBinary {
		return fmt.Errorf("starling: cannot write a message of %v", typ)
	}
	return nil
}

// WritePing sends a ping with payload p (at most 125 bytes) without waiting
// for the pong; see Ping for a round trip.
func (c *Conn) WritePing(ctx context.Context, p []byte) error {
	return c.writeControl(ctx, frame.OpPing, p)
}

// WritePong sends an unsolicited pong with payload p (at most 125 bytes),
// which RFC 6455 section 5.5.3 allows as a unidirectional heartbeat. Pings
// are answered automatically; there is no need to call WritePong for them.
func (c *Conn) WritePong(ctx context.Context, p []byte) error {
	return c.writeControl(ctx, frame.OpPong, p)
}

func (c *Conn) writeControl(ctx context.Context, op frame.Opcode, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeFrame(ctx, true, op, false, p)
}

func (c *Conn) lockError(err error) error {
	if errors.Is(err, ErrClosed) {
		return c.closedError()
	}
	return fmt.Errorf("starling: write: %w", err)
}

// writeFrame writes one frame.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op frame.Opcode, rsv1 bool, p []byte) error {
	kind := messageStart
	switch {
	case op.IsControl():
		kind = controlFrame
	case op == frame.OpContinuation:
		kind = messageRest
	}
	if err := c.beginFrame(ctx, kind); err != nil {
		return err
	}
	err := c.writeFrameLocked(fin, op, rsv1, p)
	if err == nil && fin && !op.IsControl() {
		c.stats.messagesWritten.Add(1) // or joined a batch, which the next write sends
	}
	return c.endFrame(err)
}

// writeRaw writes b, one or more whole frames already encoded.
func (c *Conn) writeRaw(ctx context.Context, b []byte) error {
	return c.locked(ctx, messageStart, func() error {
		if err := c.writeBatch(); err != nil {
			return err
		}
		return c.send(b)
	})
}

// frameKind is the kind of frame beginFrame (or locked) is to write.
type frameKind uint8

const (
	controlFrame frameKind = iota // a control frame, or bytes owed from before
	messageStart                  // a data message's first frame, or whole frames
	messageRest                   // a data frame of a message already begun
)

// locked runs write holding frameMu, so that frames of concurrent writers
// never interleave, under ctx and the write timeout. A failed write closes
// the connection: a frame cut short cannot be resumed. So does a ctx that
// has ended before write, but only inside a message: before its first
// frame nothing has left, and the call just fails (messageWriter.abort).
func (c *Conn) locked(ctx context.Context, kind frameKind, write func() error) error {
	if err := c.beginFrame(ctx, kind); err != nil {
		return err
	}
	return c.endFrame(write())
}

// beginFrame takes frameMu for a frame of kind under ctx, and arms the
// write timeout. On success the caller writes, and then passes the
// write's error to endFrame. Write's frames go through this pair, not
// through locked and a closure: two stack frames fewer on every write,
// and with a thousand busy connections each goroutine's stack is cold
// when its turn comes, so every cache line of depth is a miss.
func (c *Conn) beginFrame(ctx context.Context, kind frameKind) error {
	if err := c.frameMu.lock(ctx, c); err != nil {
		return c.lockError(err)
	}
	var err error
	switch {
	case c.isClosed():
		err = c.closedError()
	case kind != controlFrame && c.flags.has(flagCloseSent):
		// RFC 6455 section 5.5.1: no data frames after a close frame.
		err = ErrClosed
	default:
		err = c.wwatch.begin(c, ctx, kind != messageRest || c.flags.has(flagStreamWrite))
	}
	if err != nil {
		c.frameMu.unlock()
		return err
	}
	c.armWriteDeadline()
	return nil
}

// endFrame ends what beginFrame began, after a write that returned err;
// a failed write closes the connection (writeFailed).
func (c *Conn) endFrame(err error) error {
	c.disarmWriteDeadline()
	if err != nil {
		err = c.writeFailed(err)
	}
	c.wwatch.end(c)
	c.frameMu.unlock()
	return err
}

// writeFailed closes the connection after a failed write and returns the
// error for the writer.
func (c *Conn) writeFailed(err error) error {
	if c.isClosed() {
		return c.cause()
	}
	if _, ok := err.(*interruptedError); ok {
		return err // the rest of the frame leaves later (sendv)
	}
	// The connection ends without a close frame: that is 1006 (RFC 6455
	// section 7.1.5), as when a read finds it gone.
	err = fmt.Errorf("starling: write: %w: %w", &CloseError{Code: StatusAbnormalClosure}, err)
	c.shutdown(err)
	return err
}

// armWriteDeadline makes a write to a peer that stopped reading fail after
// the write timeout. The deadline moves only when it is due. On a socket,
// sendvOnce arms it instead, only once a write has to wait.
func (c *Conn) armWriteDeadline() {
	if c.writeTimeout <= 0 || c.sock != nil || !due(c.writeArmed, c.writeTimeout) {
		return
	}
	if d := c.deadlines(); d != nil {
		c.writeArmed = sinceStart()
		c.setWriteDeadline(d, time.Now().Add(c.writeTimeout))
	}
}

// disarmWriteDeadline clears the deadline sendvOnce set for a frame that
// had to wait, once the frame is written.
func (c *Conn) disarmWriteDeadline() {
	if s := c.sock; s != nil && s.armed {
		s.armed = false
		c.setWriteDeadline(c.rwc.(deadliner), time.Time{})
	}
}

// separateWriteSize is the payload size from which a server frame leaves
// in two write calls rather than one writev. Measured on loopback (1
// connection, one message in flight, bench/cmd/loadgen): writev takes
// 5–20 % less server CPU per echo from 16 to 128 KiB, the same from 256
// to 768 KiB, and 1.4× more at 1 MiB (1.1× at 2 MiB).
const separateWriteSize = 512 << 10

func (c *Conn) writeFrameLocked(fin bool, op frame.Opcode, rsv1 bool, p []byte) error {
	h := frame.Header{Fin: fin, Rsv1: rsv1, Opcode: op, Length: int64(len(p)), Masked: c.client}
	if c.batch != nil || c.flags.has(flagReadAhead) {
		if done, err := c.batchFrame(&h, p); done {
			return err
		}
	}
	if h.Masked {
		return c.writeMasked(&h, p)
	}
	wb := writeBuffers.Get().(*writeBuffer)
	buf := wb.buf
	n := frame.Encode(buf, &h)
	var err error
	switch {
	case n+len(p) <= len(buf):
		// Header and payload leave in one write call.
		n += copy(buf[n:], p)
		err = c.send(buf[:n])
	case len(p) >= separateWriteSize:
		// The header with the payload's start, then the rest.
		k := copy(buf[n:], p)
		if err = c.send(buf[:n+k]); err == nil {
			err = c.send(p[k:])
		}
	default:
		err = c.sendv(buf[:n], p)
	}
	writeBuffers.Put(wb) // not deferred, for a smaller frame (see write)
	return err
}

// writeMasked writes a client's frame (RFC 6455 section 5.3), masking a
// copy of p: the caller's slice is not ours to change. It is a function
// of its own so that a server's writes, which never mask, run in a stack
// frame 104 bytes smaller.
func (c *Conn) writeMasked(h *frame.Header, p []byte) error {
	// RFC 6455 section 5.3: masking keys must be unpredictable. The
	// top-level math/rand/v2 functions draw from the runtime's per-thread
	// ChaCha8 generator, seeded from the operating system's entropy, so
	// a connection needs no generator of its own.
	binary.LittleEndian.PutUint32(h.Key[:], mathrand.Uint32())
	var buf []byte
	if len(p) <= writeBufferSize {
		wb := writeBuffers.Get().(*writeBuffer)
		defer writeBuffers.Put(wb)
		buf = wb.buf
	} else {
		large := maskBuffers.Get().(*[]byte)
		defer maskBuffers.Put(large)
		buf = *large
	}
	n := frame.Encode(buf, h)
	start, pos := 0, 0
	for {
		m := copy(buf[n:], p)
		pos = frame.Mask(h.Key, pos, buf[n:n+m])
		if err := c.send(buf[start : n+m]); err != nil {
			return err
		}
		p = p[m:]
		if len(p) == 0 {
			return nil
		}
		// Later chunks are masked at the same offset as the first
		// payload byte, not at buf[0]: the kernel copies each into its
		// pages where the stream has reached, and a source that falls
		// 1 to 15 bytes behind that destination modulo 4 KiB takes a
		// slow path on AMD Zen (see largePayloadSkew).
		start = n
	}
}

// Writer returns a writer for a message of type typ, for messages too large
// to hold in memory. The message is sent in fragments as it is written, and
// ends when the writer is closed; until then other writers wait. Close the
// writer even after an error; closing it again does nothing.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if err := checkType(typ); err != nil {
		return nil, err
	}
	if err := c.msgMu.lock(ctx, c); err != nil {
		return nil, c.lockError(err)
	}
	// A writer of its own, not the one Write reuses: a second Close of a
	// handle the caller kept (an explicit Close, then a deferred one) must
	// find its own message ended, not end the one another goroutine has
	// begun since.
	return c.startMessage(ctx, new(messageWriter), typ, c.shouldCompress(fragmentSize))
}

// startMessage prepares w for a message; msgMu must be held, and is
// released by the writer's Close (or here, on error).
func (c *Conn) startMessage(ctx context.Context, w *messageWriter, typ MessageType, compress bool) (*messageWriter, error) {
	*w = messageWriter{c: c, ctx: ctx, op: frame.Opcode(typ)}
	if typ == MessageText {
		w.utf8 = &c.wutf8
		w.utf8.Reset()
	}
	if compress {
		comp, err := c.compressor()
		if err != nil {
			c.msgMu.unlock()
			return nil, fmt.Errorf("starling: %w", err)
		}
		comp.Reset(deflateSink{w})
		w.comp, w.rsv1 = comp, true // RFC 7692 section 6: RSV1 on the first frame only
	}
	return w, nil
}

// messageWriter is the writer Writer returns; each Conn reuses one.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     frame.Opcode // the next frame's opcode: the type, then continuation
	rsv1   bool         // set on the first frame of a compressed message
	buf    *[]byte
	n      int
	utf8   *utf8v.Validator
	comp   *wsflate.Compressor // set while the message is being compressed
	closed bool
	err    error
}

// Write buffers p and sends full fragments.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("starling: write to a closed message writer")
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.utf8 != nil && !w.utf8.Write(p) {
		w.err = ErrInvalidUTF8
		return 0, w.err
	}
	if w.comp != nil {
		return w.comp.Write(p)
	}
	return w.writeRaw(p)
}

func (w *messageWriter) writeRaw(p []byte) (int, error) {
	if w.buf == nil {
		w.buf = largeBuffers.Get().(*[]byte)
	}
	total := len(p)
	for len(p) > 0 {
		if w.n == fragmentSize {
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
		}
		m := copy((*w.buf)[w.n:fragmentSize], p)
		w.n += m
		p = p[m:]
	}
	return total, nil
}

// flush sends the buffered bytes as one frame.
func (w *messageWriter) flush(fin bool) error {
	var p []byte
	if w.buf != nil {
		p = (*w.buf)[:w.n]
	}
	err := w.c.writeFrame(w.ctx, fin, w.op, w.rsv1, p)
	w.n = 0
	if err != nil {
		// The frame did not leave (a write that fails partway closes
		// the connection): op still tells abort whether one did.
		w.err = err
		return err
	}
	w.op, w.rsv1 = frame.OpContinuation, false
	return nil
}

// Close sends the message's last fragment and lets other writers proceed.
func (w *messageWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.c.msgMu.unlock()
	defer w.release()
	if w.err != nil {
		return w.abort()
	}
	if w.utf8 != nil && !w.utf8.Complete() {
		w.err = ErrInvalidUTF8
		return w.abort()
	}
	if w.comp != nil {
		if err := w.comp.Finish(); err != nil {
			w.err = err
			return w.abort()
		}
	}
	if err := w.flush(true); err != nil {
		return w.abort()
	}
	return w.err
}

// abort gives up on the message after an error. If no fragment has left
// yet the message is simply dropped; otherwise the peer is mid-message and
// the only way out is to close the connection (1011, internal error).
func (w *messageWriter) abort() error {
	if w.comp != nil {
		// The window may hold bytes the peer will never see; an empty
		// window is always safe to continue from.
		w.comp.Close()
	}
	if w.op != frame.OpContinuation || w.c.isClosed() {
		return w.err
	}
	if !w.c.flags.claim(flagCloseSent) {
		// Our close frame is out, between two of this message's frames:
		// the close handshake under way ends the connection (RFC 6455
		// section 5.5.1), and closing the socket now would cut it short.
		return w.err
	}
	_ = w.c.sendClose(StatusInternalError, "message writer aborted")
	w.c.shutdown(w.err)
	return w.err
}

func (w *messageWriter) release() {
	if w.buf != nil {
		largeBuffers.Put(w.buf)
		w.buf = nil
	}
}
