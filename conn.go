package starling

import (
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-ws/starling/internal/utf8v"
)

// DefaultReadLimit is the read limit of a new Conn: the largest message, in
// bytes after decompression, that it accepts. SetReadLimit changes it.
const DefaultReadLimit = 32 << 20

// DefaultMaxFragments is the number of frames one message may span before
// the connection is failed with 1009, so a flood of 1-byte continuation
// frames cannot keep a reader busy forever.
const DefaultMaxFragments = 1 << 16

// DefaultWriteTimeout bounds how long one frame may take to write, so a peer
// that stops reading cannot block writers forever: the write fails and the
// connection is closed.
const DefaultWriteTimeout = 30 * time.Second

// clockStart is the origin of the monotonic times a Conn keeps as
// durations, which are smaller than time.Time.
var clockStart = time.Now()

// sinceStart reads the monotonic clock alone (time.Since of a time that
// has a monotonic reading): one clock read, where time.Now makes two, and
// the write path asks it for every frame.
func sinceStart() time.Duration { return time.Since(clockStart) }

// due reports whether a deadline of timeout moved at armed (by
// sinceStart; 0 for never) should move again: once less than three
// quarters of it remain. Moving one costs a timer update.
func due(armed, timeout time.Duration) bool {
	return armed == 0 || sinceStart()-armed >= timeout/4
}

// closeTimeout bounds each step of the close handshake.
const closeTimeout = 5 * time.Second

// Conn is a WebSocket connection, from Accept or Dial.
//
// Any number of goroutines may write at once; one goroutine at a time may
// read, and a second concurrent read returns ErrConcurrentRead. Pings are
// answered and pongs matched only while a read is in progress, so a program
// that only writes should still keep a goroutine in Read, or call CloseRead.
type Conn struct {
	rwc    io.ReadWriteCloser
	sock   *sock       // nil unless rwc is a socket with a raw connection
	ext    *extensions // nil unless permessage-deflate was negotiated
	x      *extras     // nil unless one of its options is set
	client bool
	wutf8  utf8v.Validator // write side's, for Writer

	flags connFlags

	// Read side, owned by the goroutine holding readMu.
	readMu       mutex
	br           readBuffer
	readLimit    atomic.Int64
	maxFragments int
	rs           readState
	rwatch       ctxWatch // its ctx is also the one Reader's reader reads under

	// Write side: msgMu is held for a whole data message, frameMu for one
	// frame, so a control frame can go out between two fragments.
	msgMu        mutex
	frameMu      mutex
	mw           *messageWriter // made by the first Writer or compressed Write
	wwatch       ctxWatch
	batch        *batch // see batch.go; guarded by frameMu
	writeTimeout time.Duration
	writeArmed   time.Duration // since clockStart

	// closeMu guards the rest, and the events' channels.
	closeMu   sync.Mutex
	pings     *pings // made by the first Ping, or the first pong that has to wait
	closeRcvd event  // the peer's close frame arrived
	readLeft  event  // after our close frame, a read gave up (unlockRead)
	closed    event
	closeErr  error // why the connection ended, for calls after it did

	stats stats
}

// connFlags packs a Conn's boolean state into one word.
type connFlags struct{ v atomic.Uint32 }

// The bits of connFlags.
const (
	flagNoCompress uint32 = 1 << iota
	flagReadAhead         // the reader has input buffered past the message it returned
	flagBatched           // batch holds frames
	flagCloseSent
	flagShutting         // shutdown has begun
	flagReadInterrupted  // the read deadline was moved to cut a read short (interrupt.go)
	flagWriteInterrupted // the same for a write
	flagStreamRead       // NetConn's read is in progress: it resumes mid-message
	flagStreamWrite      // NetConn's write is in progress: a frame cut short is finished later
	flagPongPending      // a pong waits to be sent (ping.go)
	flagPongWriter       // a goroutine sends it
	flagUnsentWriter     // a goroutine sends what a cut write left (sock.go)
)

func (f *connFlags) has(bit uint32) bool { return f.v.Load()&bit != 0 }

// set sets or clears bit; it writes only if that changes it.
func (f *connFlags) set(bit uint32, on bool) {
	switch {
	case on && !f.has(bit):
		f.v.Or(bit)
	case !on && f.has(bit):
		f.v.And(^bit)
	}
}

// claim sets bit and reports whether this call is the one that set it.
func (f *connFlags) claim(bit uint32) bool { return f.v.Or(bit)&bit == 0 }

// extras holds what most connections do not use, so that it costs them
// one pointer. All is set at creation but the idle fields, which are the
// reader's.
type extras struct {
	subprotocol    string
	onPing, onPong func([]byte)
	group          *Group
	idleTimeout    time.Duration
	idleArmed      time.Duration // since clockStart
	// idleHeld says the last read from the network was cut short by its
	// context when BytesRead was idleBytes: until more input arrives,
	// the idle deadline stays where it was armed.
	idleHeld  bool
	idleBytes int64
}

// deadliner is what a Conn needs of its transport to bound reads and
// writes in time: a net.Conn, or an HTTP/2 stream.
type deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// deadlines returns the transport's deadlines, or nil if it has none. It
// is asked for rather than kept because deadlines are moved rarely (see
// armWriteDeadline), and every byte of an idle Conn counts.
func (c *Conn) deadlines() deadliner {
	d, _ := c.rwc.(deadliner)
	return d
}

// connConfig holds what Accept and Dial decide about a new Conn.
type connConfig struct {
	rwc          io.ReadWriteCloser
	early        []byte // bytes read past the handshake, read first
	client       bool
	subprotocol  string
	ext          *extensions
	readLimit    int64
	maxFragments int
	writeTimeout time.Duration
	idleTimeout  time.Duration
	onPing       func([]byte)
	onPong       func([]byte)
	group        *Group
}

func newConn(cfg connConfig) *Conn {
	c := &Conn{
		rwc:          cfg.rwc,
		client:       cfg.client,
		ext:          cfg.ext,
		maxFragments: cfg.maxFragments,
		writeTimeout: cfg.writeTimeout,
	}
	if cfg.subprotocol != "" || cfg.onPing != nil || cfg.onPong != nil || cfg.group != nil || cfg.idleTimeout > 0 {
		c.x = &extras{subprotocol: cfg.subprotocol, onPing: cfg.onPing, onPong: cfg.onPong, group: cfg.group, idleTimeout: cfg.idleTimeout}
	}
	if c.writeTimeout == 0 {
		c.writeTimeout = DefaultWriteTimeout
	}
	if rc := rawConn(c.rwc); rc != nil {
		c.sock = newSock(rc)
	}
	c.br.init(c, cfg.early)
	if cfg.readLimit == 0 {
		cfg.readLimit = DefaultReadLimit
	}
	c.SetReadLimit(cfg.readLimit)
	if c.maxFragments <= 0 {
		c.maxFragments = DefaultMaxFragments
	}
	return c
}

// writeBufferSize is the payload size up to which a frame's header and
// payload are copied together and leave in one write call.
const writeBufferSize = 4096

// Subprotocol returns the subprotocol chosen in the handshake, or "".
func (c *Conn) Subprotocol() string {
	if c.x == nil {
		return ""
	}
	return c.x.subprotocol
}

// LocalAddr returns the local network address, if the underlying connection
// has one.
func (c *Conn) LocalAddr() net.Addr {
	if nc, ok := c.rwc.(net.Conn); ok {
		return nc.LocalAddr()
	}
	return nil
}

// RemoteAddr returns the remote network address, if the underlying
// connection has one.
func (c *Conn) RemoteAddr() net.Addr {
	if nc, ok := c.rwc.(net.Conn); ok {
		return nc.RemoteAddr()
	}
	return nil
}

// SetReadLimit sets the largest message, in bytes after decompression, that
// the connection accepts. A larger message fails the connection with 1009
// (message too big). A negative n removes the limit, for a peer trusted
// with the memory. The default is DefaultReadLimit.
func (c *Conn) SetReadLimit(n int64) {
	if n < 0 {
		n = math.MaxInt64
	}
	c.readLimit.Store(n)
}

// CloseNow closes the underlying connection without a close handshake.
func (c *Conn) CloseNow() error {
	return c.shutdown(ErrClosed)
}

// shutdown closes the underlying connection once, remembering why. Frames
// gathered for a batch go out first, unless a writer holds the lock; a peer
// that does not take them gets batchDelay, not the write timeout.
func (c *Conn) shutdown(cause error) error {
	c.flushBatchClosing()
	if !c.flags.claim(flagShutting) {
		return ErrClosed
	}
	c.closeMu.Lock()
	c.closeErr = cause
	c.closeMu.Unlock()
	// Leave the group first: whoever waits on c.closed may count it.
	if c.x != nil && c.x.group != nil {
		c.x.group.remove(c)
	}
	c.closed.fire(&c.closeMu)
	err := c.rwc.Close()
	c.rwatch.release()
	c.wwatch.release()
	return err
}

// cause returns why the connection ended, once it has.
func (c *Conn) cause() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeErr == nil {
		return ErrClosed
	}
	return c.closeErr
}

// closedError is the error of a call that finds the connection closed:
// why it closed, unless that was another call's context (closedByContext).
func (c *Conn) closedError() error {
	err := c.cause()
	if isContextError(err) {
		return &closedByContext{err: err}
	}
	return err
}

func (c *Conn) isClosed() bool { return c.closed.hasFired() }
