package starling

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// NetConn returns a net.Conn whose Write sends what it is given as
// messages of type typ and whose Read returns the payloads of incoming
// messages as one byte stream, for code that wants a stream (TLS, SSH,
// HTTP, a line protocol) tunnelled over WebSocket. Messages of the other
// type fail the read with 1003 (unsupported data). A normal closure (1000)
// from the peer reads as io.EOF, and fails writes with a *net.OpError;
// Close starts a close handshake with 1000 and, like a TCP connection's,
// returns without waiting for the peer.
//
// ctx bounds the adapter's life. Deadlines work as on a TCP connection:
// one that passes, or is moved into the past, cuts short the Reads and
// Writes in progress, and later ones fail at once, with an error for
// which errors.Is(err, os.ErrDeadlineExceeded) holds and whose Timeout
// method reports true. The stream survives a Read cut short: the next
// Read goes on where it stopped (except inside a compressed message,
// which cannot resume: the connection is then closed). So does the stream
// survive a Write cut short: a message whose frame had begun to leave is
// counted as written, and its rest leaves before anything else, as soon as
// the peer takes it, even if nothing more is written. Write
// sends messages of at most 128 KiB, so a Write cut short has sent a
// prefix of p, as on TCP. Over TLS, or when the message is compressed, a
// Write cut short after its frame began to leave closes the connection
// instead: crypto/tls cannot write again after a write timed out, and a
// compressed message leaves in parts.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	return &netConn{ctx: ctx, c: c, typ: typ}
}

type netConn struct {
	ctx context.Context
	c   *Conn
	typ MessageType

	rd, wd netDeadline

	readMu sync.Mutex // net.Conn allows concurrent Reads; the stream has one position
	eof    bool
	closed atomic.Bool
}

func (nc *netConn) Read(p []byte) (int, error) {
	if nc.closed.Load() {
		return 0, nc.opError("read", net.ErrClosed)
	}
	nc.readMu.Lock()
	defer nc.readMu.Unlock()
	if nc.eof {
		return 0, io.EOF
	}
	ctx, ok := nc.rd.begin(nc.ctx)
	if !ok {
		return 0, nc.timeout("read")
	}
	defer nc.rd.end()
	n, err := nc.c.readStream(ctx, nc.typ, p)
	if err != nil {
		return n, nc.streamError("read", ctx, err)
	}
	return n, nil
}

// streamMessageSize bounds the messages Write sends, so that each leaves
// in one write call, which a deadline can cut short and sendv finish later
// (the client's masking buffer holds 256 KiB).
const streamMessageSize = 128 << 10

func (nc *netConn) Write(p []byte) (int, error) {
	if nc.closed.Load() {
		// The close frame may not have left yet (Close sends it on a
		// goroutine of its own), so the Conn would still take data.
		return 0, nc.opError("write", net.ErrClosed)
	}
	ctx, ok := nc.wd.begin(nc.ctx)
	if !ok {
		return 0, nc.timeout("write")
	}
	defer nc.wd.end()
	n := 0
	for {
		end := min(len(p), n+streamMessageSize)
		for nc.typ == MessageText && end < len(p) && end > n && !utf8.RuneStart(p[end]) {
			end-- // each message must be valid UTF-8 on its own
		}
		err := nc.c.write(ctx, nc.typ, p[n:end], true)
		if ie, ok := err.(*interruptedError); err == nil || ok && ie.kept {
			n = end // sent, or to be sent before anything else
		}
		if err != nil {
			return n, nc.streamError("write", ctx, err)
		}
		if n == len(p) {
			return n, nil
		}
	}
}

// streamError maps the end of the stream and timeouts to what net.Conn
// users expect: a read that meets the peer's normal closure gets io.EOF,
// a write a *net.OpError, as on a socket the peer closed.
func (nc *netConn) streamError(op string, ctx context.Context, err error) error {
	if ie, ok := err.(*interruptedError); ok {
		err = ie.err
	}
	if CloseStatus(err) == StatusNormalClosure {
		if op == "write" {
			return nc.opError(op, err)
		}
		nc.eof = true
		return io.EOF
	}
	if context.Cause(ctx) == os.ErrDeadlineExceeded {
		return nc.timeout(op)
	}
	return err
}

// timeout is the error of an operation a deadline cut short, as the net
// package reports it.
func (nc *netConn) timeout(op string) error {
	return nc.opError(op, os.ErrDeadlineExceeded)
}

// opError wraps err as the net package wraps the errors of its Read and
// Write.
func (nc *netConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "websocket", Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: err}
}

// Close starts the close handshake (1000) and returns: as a TCP
// connection's Close, it does not wait for the peer. Reads and Writes in
// progress end with the handshake, within Close's timeouts; later ones
// fail at once with net.ErrClosed. Only a second Close fails, even if the
// peer closed first.
func (nc *netConn) Close() error {
	if nc.closed.Swap(true) {
		return net.ErrClosed
	}
	if !nc.c.isClosed() {
		go nc.c.Close(StatusNormalClosure, "")
	}
	return nil
}

func (nc *netConn) LocalAddr() net.Addr  { return addrOr(nc.c.LocalAddr()) }
func (nc *netConn) RemoteAddr() net.Addr { return addrOr(nc.c.RemoteAddr()) }

func (nc *netConn) SetDeadline(t time.Time) error {
	nc.rd.set(t)
	nc.wd.set(t)
	return nil
}

func (nc *netConn) SetReadDeadline(t time.Time) error  { nc.rd.set(t); return nil }
func (nc *netConn) SetWriteDeadline(t time.Time) error { nc.wd.set(t); return nil }

// netDeadline is one direction's deadline, and the context its operations
// run under, which a timer ends when the deadline passes while one is in
// progress. The context is kept from one operation to the next until it
// ends, so operations allocate nothing while no deadline cuts them short.
type netDeadline struct {
	mu      sync.Mutex
	t       time.Time
	timer   *time.Timer
	ctx     context.Context // nil until the first operation
	cancel  context.CancelCauseFunc
	pending int // operations in progress
}

// begin returns the context for an operation, or false if the deadline
// has passed. After true, the caller must call end when the operation is
// over.
func (d *netDeadline) begin(parent context.Context) (context.Context, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed() {
		return nil, false
	}
	if d.ctx == nil || d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancelCause(parent)
	}
	d.pending++
	return d.ctx, true
}

func (d *netDeadline) end() {
	d.mu.Lock()
	d.pending--
	d.mu.Unlock()
}

// set moves the deadline to t; the zero time means none.
func (d *netDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	switch {
	case t.IsZero():
		if d.timer != nil {
			d.timer.Stop()
		}
	case d.timer == nil:
		d.timer = time.AfterFunc(time.Until(t), d.expire)
	default:
		d.timer.Reset(time.Until(t))
	}
}

// expire ends the context of the operations in progress once the
// deadline has passed (the timer may fire for a deadline since moved).
func (d *netDeadline) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending > 0 && d.passed() {
		d.cancel(os.ErrDeadlineExceeded)
	}
}

// passed reports whether the deadline has passed; d.mu must be held.
func (d *netDeadline) passed() bool {
	return !d.t.IsZero() && !time.Now().Before(d.t)
}

// readStream reads the payload of the current message into p, moving to
// the next message once one ends: NetConn's byte stream. Messages must be
// of type typ. It resumes where an earlier call was cut short, and runs
// under ctx as Reader's reader does.
func (c *Conn) readStream(ctx context.Context, typ MessageType, p []byte) (int, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, err
	}
	c.flags.set(flagStreamRead, true) // before begin, which asks resumable
	if err := c.rwatch.begin(c, ctx, c.resumable()); err != nil {
		c.flags.set(flagStreamRead, false)
		c.unlockRead()
		return 0, err
	}
	defer c.endRead()
	defer c.flags.set(flagStreamRead, false)
	for {
		// A compressed message's last frame may be read while the
		// decompressor still holds the message's end: the message
		// lasts until the decompressor has given it all.
		if !c.rs.inMessage && !c.rs.inflating {
			if err := c.awaitFrame(); err != nil {
				return 0, err
			}
			if err := c.nextDataFrame(); err != nil {
				return 0, err
			}
			if c.rs.typ != typ {
				return 0, c.fail(protocolError(StatusUnsupportedData, "expected %v messages, got %v", typ, c.rs.typ))
			}
		}
		n, err := c.readMessage(p)
		if err == io.EOF {
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// websocketAddr stands in when the connection has no network address.
type websocketAddr struct{}

func (websocketAddr) Network() string { return "websocket" }
func (websocketAddr) String() string  { return "websocket" }

func addrOr(a net.Addr) net.Addr {
	if a == nil {
		return websocketAddr{}
	}
	return a
}
