package starling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// WebSockets over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220). A client opens
// a stream with an extended CONNECT whose :protocol is "websocket"; the
// server answers 200, and the stream's DATA frames then carry ordinary
// WebSocket frames, masked as on HTTP/1.1. Go 1.26's server accepts
// extended CONNECT only when the process starts with
// GODEBUG=http2xconnect=1 in its environment; quic-go's HTTP/3 server
// always does. Accept handles such requests like any other. The WebSocket
// lives as long as the handler: the handler must not return before the
// connection is closed, since the stream ends with it. A client dials such
// a connection through a transport it is given (DialOptions.HTTP2Transport).

// connectProtocol returns the :protocol of an extended CONNECT. net/http
// reports it as a header; quic-go's HTTP/3 server, which has no such
// header, as the request's Proto (otherwise "HTTP/3.0").
func connectProtocol(r *http.Request) string {
	if p := r.Header.Get(":protocol"); p != "" || r.ProtoMajor != 3 || r.Proto == "HTTP/3.0" {
		return p
	}
	return r.Proto
}

// checkExtendedConnect applies RFC 8441 section 4 and RFC 6455 section
// 4.2.1 as it carries over to HTTP/2 and HTTP/3 (RFC 9220 section 3): no
// key, no Upgrade or Connection.
func checkExtendedConnect(r *http.Request) error {
	refuse := func(status int, format string, args ...any) error {
		return &handshakeError{status: status, reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Method != http.MethodConnect:
		return &handshakeError{status: http.StatusMethodNotAllowed, allow: http.MethodConnect,
			reason: fmt.Sprintf("method %s not allowed: a WebSocket over %s is an extended CONNECT (RFC 8441)", r.Method, r.Proto)}
	case connectProtocol(r) != "websocket":
		return refuse(http.StatusBadRequest, "extended CONNECT for protocol %q: only websocket is spoken here", connectProtocol(r))
	case r.Header.Get(headerVersion) != "13":
		return refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version %q: only 13 is supported", r.Header.Get(headerVersion))
	}
	return nil
}

// acceptStream answers an extended CONNECT with 200 and makes the stream
// the connection's transport (RFC 8441 section 5).
func acceptStream(w http.ResponseWriter, r *http.Request, cfg *connConfig, subp, extResponse string) error {
	h := w.Header()
	if subp != "" {
		h.Set(headerProtocol, subp)
	}
	if extResponse != "" {
		h.Set(headerExtensions, extResponse)
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("starling: answering the extended CONNECT: %w", err)
	}
	s := &stream{w: w, rc: rc, body: r.Body}
	s.writes.expire, s.writes.abort = s.timedOut, s.abort
	cfg.rwc = s
	return nil
}

// stream is an HTTP/2 or HTTP/3 stream as a connection: the request body one way,
// the response the other, each write flushed into DATA frames.
type stream struct {
	body   io.ReadCloser
	w      io.Writer
	rc     *http.ResponseController
	writes streamWrites
	conn   *Conn // the Conn over the stream, once Accept has set it
}

func (s *stream) Read(p []byte) (int, error) { return s.body.Read(p) }

func (s *stream) Write(p []byte) (int, error) {
	if err := s.writes.begin(); err != nil {
		return 0, err
	}
	defer s.writes.end()
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

// Close ends the reading side, and the writes in progress: net/http's
// ResponseWriter must not be used once the handler has returned, which it
// may do as soon as Close has. The stream itself ends when the handler
// returns.
func (s *stream) Close() error {
	if drained := s.writes.close(); drained != nil {
		<-drained
	}
	return s.body.Close()
}

// abort cuts short the writes in progress by moving the write deadline
// into the past: net/http's HTTP/2 server resets the stream, quic-go's
// HTTP/3 server fails the writes. Only streamWrites.cut calls it, while a
// write is in progress, so the handler has not returned.
func (s *stream) abort() { _ = s.rc.SetWriteDeadline(aLongTimeAgo) }

// timedOut cuts short the writes that wait past the deadline. On HTTP/2
// the reset ends the request's context too, and a write under it would
// fail with that context's error, which says nothing of the peer that
// stopped reading: the Conn closes first, with the timeout as its cause.
func (s *stream) timedOut() {
	if s.conn != nil {
		s.conn.shutdown(fmt.Errorf("starling: write: %w: %w", &CloseError{Code: StatusAbnormalClosure}, os.ErrDeadlineExceeded))
	}
	s.writes.cut()
}

// SetReadDeadline sets the read deadline unless the stream is closed: the
// handler may then have returned, and net/http's ResponseWriter with it
// (Close may read the peer's close frame after a reader closed the Conn).
func (s *stream) SetReadDeadline(t time.Time) error {
	err := net.ErrClosed
	s.writes.ifOpen(func() { err = s.rc.SetReadDeadline(t) })
	return err
}

// SetWriteDeadline keeps the deadline itself (streamWrites): net/http's
// HTTP/2 server resets the stream when the deadline passes, even with no
// write waiting.
func (s *stream) SetWriteDeadline(t time.Time) error {
	s.writes.set(t)
	return nil
}

// streamWrites tracks the writes to a stream: how many are in progress,
// and their deadline, kept as a net.Conn keeps one. Once it passes, writes
// fail, and expire cuts short those still waiting. A deadline that passes
// while no write waits harms nothing, since the Conn moves it before the
// next write. The deadlines of the streams' own transports are coarser:
// net/http's HTTP/2 server resets the stream when its timer fires, and a
// pipe has none, so a WebSocket that sent nothing for its write timeout
// would lose its stream.
type streamWrites struct {
	expire func() // cuts short the writes in progress, and the stream with them
	abort  func() // cuts short the writes in progress, for close (if set)

	mu      sync.Mutex
	timer   *time.Timer
	gen     int // counts set calls, so that a stale timer does nothing
	expired bool
	closed  bool
	writing int           // writes in progress
	drained chan struct{} // closed when writing drops to 0, if made
}

// set moves the deadline to t; the zero time means none.
func (w *streamWrites) set(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.gen++
	w.expired = false
	if t.IsZero() || w.closed {
		return
	}
	gen := w.gen
	w.timer = time.AfterFunc(time.Until(t), func() { w.fire(gen) })
}

// fire marks the deadline of generation gen passed, and cuts short the
// writes in progress.
func (w *streamWrites) fire(gen int) {
	w.mu.Lock()
	if gen != w.gen {
		w.mu.Unlock()
		return
	}
	w.expired = true
	writing := w.writing > 0
	w.mu.Unlock()
	if writing {
		w.expire()
	}
}

// begin counts a write in progress, or fails if the stream is closed or
// the deadline has passed.
func (w *streamWrites) begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return net.ErrClosed
	case w.expired:
		return os.ErrDeadlineExceeded
	}
	w.writing++
	return nil
}

// end uncounts a write that begin counted.
func (w *streamWrites) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing--
	if w.writing == 0 && w.drained != nil {
		close(w.drained)
		w.drained = nil
	}
}

// ifOpen calls f unless the stream is closed, holding off close until f
// returns.
func (w *streamWrites) ifOpen(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		f()
	}
}

// passed reports whether the deadline has passed.
func (w *streamWrites) passed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.expired
}

// close makes later writes fail, cuts short those in progress, and returns
// a channel closed once they have returned, or nil if there are none.
func (w *streamWrites) close() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.writing == 0 {
		return nil
	}
	if w.drained == nil {
		w.drained = make(chan struct{})
	}
	w.abortLocked()
	return w.drained
}

// cut cuts short the writes in progress, if any.
func (w *streamWrites) cut() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.abortLocked()
}

// abortLocked calls abort if a write is in progress. Holding mu, it keeps
// that write from returning meanwhile: once the last write has returned,
// the handler may return, and a ResponseWriter must not be used after.
func (w *streamWrites) abortLocked() {
	if w.writing > 0 && w.abort != nil {
		w.abort()
	}
}

// dialStream opens a connection as an HTTP/2 or HTTP/3 stream with an
// extended CONNECT (RFC 8441 section 4, RFC 9220) through
// opts.HTTP2Transport, and checks the
// answer as RFC 6455 section 4.1 does, less the key: 200, a subprotocol
// that was offered, extensions that were.
func dialStream(ctx context.Context, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	if len(opts.Pins) > 0 {
		return nil, nil, invalidRequest{errors.New("starling: Pins need Starling's own TLS; with HTTP2Transport, pin in the transport's TLS configuration")}
	}
	target := *u
	target.Scheme = "http" // u is ws or wss (parseWebSocketURL)
	if u.Scheme == "wss" {
		target.Scheme = "https"
	}
	pr, pw := io.Pipe()
	// The stream lives as long as the connection; ctx bounds only the
	// handshake.
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	req, err := http.NewRequestWithContext(streamCtx, http.MethodConnect, target.String(), pr)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("starling: dial %s: %w", u.Redacted(), err)
	}
	if opts.HTTPHeader != nil {
		req.Header = opts.HTTPHeader.Clone()
	}
	if opts.Host != "" {
		req.Host = opts.Host
	}
	req.Header.Set(":protocol", "websocket")
	offer(req.Header, opts)
	stop := context.AfterFunc(ctx, cancel)
	resp, err := opts.HTTP2Transport.RoundTrip(req)
	fail := func(resp *http.Response, err error) (*Conn, *http.Response, error) {
		cancel()
		pw.Close()
		return nil, resp, err
	}
	switch {
	case !stop():
		if err == nil {
			resp.Body.Close()
		}
		return fail(nil, fmt.Errorf("starling: dial %s: %w", u.Redacted(), ctxError(ctx)))
	case err != nil:
		return fail(nil, fmt.Errorf("starling: dial %s by extended CONNECT: %w", u.Redacted(), err))
	case resp.StatusCode != http.StatusOK:
		// The body only words the error, and ctx no longer bounds the
		// stream: a server that never ends it must not hold the dial.
		defer time.AfterFunc(refusalBodyWait, cancel).Stop()
		return fail(resp, refusal(resp))
	}
	ext, err := dialExtensions(resp.Header, &opts.Compression)
	if err == nil {
		err = checkSubprotocol(resp.Header, opts.Subprotocols)
	}
	if err != nil {
		resp.Body.Close()
		return fail(resp, err)
	}
	s := &clientStream{body: resp.Body, w: pw, cancel: cancel}
	s.writes.expire = func() { _ = s.Close() }
	return dialedConn(s, nil, resp.Header.Get(headerProtocol), ext, opts), resp, nil
}

// clientStream is the client's side of an HTTP/2 or HTTP/3 stream as a
// connection:
// the response body one way, the request body the other. A deadline that
// passes ends the stream, which is what the Conn does after one anyway.
type clientStream struct {
	body   io.ReadCloser
	w      *io.PipeWriter
	cancel context.CancelFunc

	writes      streamWrites // the deadline alone: a closed pipe ends the writes
	mu          sync.Mutex
	rtimer      *time.Timer
	readExpired atomic.Bool
}

func (s *clientStream) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if err != nil && s.readExpired.Load() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

func (s *clientStream) Write(p []byte) (int, error) {
	if err := s.writes.begin(); err != nil {
		return 0, err
	}
	n, err := s.w.Write(p)
	s.writes.end()
	if err != nil && s.writes.passed() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

// Close ends both directions and resets the stream if it is still open.
func (s *clientStream) Close() error {
	s.w.Close()
	err := s.body.Close()
	s.cancel()
	return err
}

func (s *clientStream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rtimer = expire(s.rtimer, t, &s.readExpired, s.Close)
	return nil
}

// SetWriteDeadline sets a deadline that ends the stream only if a write
// waits past it (streamWrites).
func (s *clientStream) SetWriteDeadline(t time.Time) error {
	s.writes.set(t)
	return nil
}

// expire stops timer and, unless t is zero, returns a new one that sets
// expired and calls end at t.
func expire(timer *time.Timer, t time.Time, expired *atomic.Bool, end func() error) *time.Timer {
	if timer != nil {
		timer.Stop()
	}
	if t.IsZero() {
		return nil
	}
	return time.AfterFunc(time.Until(t), func() {
		expired.Store(true)
		end()
	})
}
