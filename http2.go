package starling

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// WebSockets over HTTP/2 (RFC 8441). A client opens a stream with an
// extended CONNECT whose :protocol is "websocket"; the server answers 200,
// and the stream's DATA frames then carry ordinary WebSocket frames, masked
// as on HTTP/1.1. Go 1.26's server accepts extended CONNECT only when the
// process starts with GODEBUG=http2xconnect=1 in its environment; Accept
// handles such requests like any other. The WebSocket lives as long as the
// handler: on HTTP/2 the handler must not return before the connection is
// closed, since the stream ends with it.

// checkExtendedConnect applies RFC 8441 section 4 and RFC 6455 section
// 4.2.1 as it carries over to HTTP/2: no key, no Upgrade or Connection.
func checkExtendedConnect(r *http.Request) error {
	refuse := func(status int, format string, args ...any) error {
		return &handshakeError{status: status, reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Method != http.MethodConnect:
		return &handshakeError{status: http.StatusMethodNotAllowed, allow: http.MethodConnect,
			reason: fmt.Sprintf("method %s not allowed: a WebSocket over %s is an extended CONNECT (RFC 8441)", r.Method, r.Proto)}
	case r.Header.Get(":protocol") != "websocket":
		return refuse(http.StatusBadRequest, "extended CONNECT for protocol %q: only websocket is spoken here", r.Header.Get(":protocol"))
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

// stream is an HTTP/2 stream as a connection: the request body one way,
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
