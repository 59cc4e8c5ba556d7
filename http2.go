package starling

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	cfg.rwc = &stream{w: w, rc: rc, body: r.Body}
	return nil
}

// stream is an HTTP/2 or HTTP/3 stream as a connection: the request body one way,
// the response the other, each write flushed into DATA frames.
type stream struct {
	body io.ReadCloser
	w    io.Writer
	rc   *http.ResponseController
}

func (s *stream) Read(p []byte) (int, error) { return s.body.Read(p) }

func (s *stream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

// Close ends the reading side; the stream itself ends when the handler
// returns.
func (s *stream) Close() error { return s.body.Close() }

func (s *stream) SetReadDeadline(t time.Time) error  { return s.rc.SetReadDeadline(t) }
func (s *stream) SetWriteDeadline(t time.Time) error { return s.rc.SetWriteDeadline(t) }

// dialStream opens a connection as an HTTP/2 or HTTP/3 stream with an
// extended CONNECT (RFC 8441 section 4, RFC 9220) through
// opts.HTTP2Transport, and checks the
// answer as RFC 6455 section 4.1 does, less the key: 200, a subprotocol
// that was offered, extensions that were.
func dialStream(ctx context.Context, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	if len(opts.Pins) > 0 {
		return nil, nil, errors.New("starling: Pins need Starling's own TLS; with HTTP2Transport, pin in the transport's TLS configuration")
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
		return fail(nil, fmt.Errorf("starling: dial %s: %w", u.Redacted(), context.Cause(ctx)))
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

	mu           sync.Mutex
	rtimer       *time.Timer
	wtimer       *time.Timer
	readExpired  atomic.Bool
	writeExpired atomic.Bool
}

func (s *clientStream) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if err != nil && s.readExpired.Load() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

func (s *clientStream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.writeExpired.Load() {
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

func (s *clientStream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wtimer = expire(s.wtimer, t, &s.writeExpired, s.Close)
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
