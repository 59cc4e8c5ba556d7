package starling

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/starling-ws/starling/internal/wsflate"
)

// Handshake is a WebSocket handshake request read straight from a network
// connection by ReadHandshake, not yet answered. Exactly one of Accept and
// Refuse answers it.
//
// Servers that accept TCP or TLS connections themselves use it instead of
// net/http: nothing of net/http's per-connection state is allocated, which
// matters when a server holds many mostly idle connections.
type Handshake struct {
	// Request is the parsed request: its URL, headers and remote address
	// are there to route it and to authenticate the client. Its Body is
	// empty: bytes after the request's head belong to the WebSocket.
	// Request.TLS is set when the connection is a *tls.Conn.
	Request *http.Request

	nc net.Conn
	lr io.LimitedReader
	br *bufio.Reader // from handshakeReaders, until answered
}

// errAnswered is the error of a second answer to one handshake.
var errAnswered = errors.New("starling: the handshake has already been answered")

// handshakeReaders spares each handshake a buffer of garbage: a server
// accepting thousands of connections keeps its heap, and so its memory,
// closer to what the connections themselves hold.
var handshakeReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, handshakeReadBuffer) }}

// done gives the reader back, once the connection has taken what was
// buffered past the request.
func (hs *Handshake) done() {
	if hs.br != nil {
		hs.br.Reset(nil)
		handshakeReaders.Put(hs.br)
		hs.br = nil
	}
}

// drop closes the connection unanswered.
func (hs *Handshake) drop() {
	hs.done()
	hs.nc.Close()
}

// handshakeReadBuffer is the buffer ReadHandshake parses with. Longer
// header lines still parse, in several reads.
const handshakeReadBuffer = 1024

// ReadHandshake reads an HTTP/1.1 request from nc. It gives the client
// DefaultHandshakeTimeout to send a request of at most
// DefaultMaxHeaderBytes. A request that cannot be read is answered with 400
// (408 when too slow, 431 when too large, 505 for another protocol
// version), nc is closed, and the error is in the chain of
// ErrBadHandshake. If ctx ends before ReadHandshake returns, even as the
// request arrives whole, nc is closed unanswered and the error is ctx's. A
// request that was read is not checked yet: Accept does that.
func ReadHandshake(ctx context.Context, nc net.Conn) (*Handshake, error) {
	_ = nc.SetDeadline(time.Now().Add(DefaultHandshakeTimeout))
	stop := func() bool { return true }
	if ctx.Done() != nil {
		// The end of ctx, deadline or not, interrupts through AfterFunc,
		// so that ctx.Err is set by the time the read fails.
		stop = context.AfterFunc(ctx, func() { _ = nc.SetDeadline(aLongTimeAgo) })
	}

	hs := &Handshake{nc: nc, lr: io.LimitedReader{R: nc, N: DefaultMaxHeaderBytes}}
	hs.br = handshakeReaders.Get().(*bufio.Reader)
	hs.br.Reset(&hs.lr)
	r, err := http.ReadRequest(hs.br)
	if !stop() {
		// ctx ended, and its interruption may land on nc at any time from
		// now, even if the request was read whole: nc can be neither
		// answered nor handed over.
		hs.drop()
		return nil, fmt.Errorf("starling: reading the handshake request: %w", ctxError(ctx))
	}
	hs.Request = r
	lr := &hs.lr
	switch {
	case err != nil && lr.N == 0:
		return nil, hs.refuse(http.StatusRequestHeaderFieldsTooLarge, "request header exceeds %d bytes", DefaultMaxHeaderBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, hs.refuse(http.StatusRequestTimeout, "no complete request within %v", DefaultHandshakeTimeout)
	case err == io.EOF:
		// The client hung up before sending anything: nobody to answer.
		hs.drop()
		return nil, fmt.Errorf("%w: connection closed before a request", ErrBadHandshake)
	case err != nil:
		return nil, hs.refuse(http.StatusBadRequest, "malformed request: %v", err)
	case r.ProtoMajor != 1:
		return nil, hs.refuse(http.StatusHTTPVersionNotSupported, "%s cannot carry this WebSocket handshake: HTTP/1.1 is required", r.Proto)
	}
	if reason := syntaxError(r); reason != "" {
		return nil, hs.refuse(http.StatusBadRequest, "malformed request: %s", reason)
	}
	lr.N = 1<<63 - 1 // what follows the request is the WebSocket's
	r.RemoteAddr = nc.RemoteAddr().String()
	if tc, ok := nc.(*tls.Conn); ok {
		state := tc.ConnectionState()
		r.TLS = &state
	}
	return hs, nil
}

// syntaxError returns what makes r a request that RFC 9112 requires a
// server to refuse with 400, and that http.ReadRequest lets through but
// net/http's server refuses: whitespace between a field name and its
// colon (section 5.1), or a Host that is not a host (section 3.2). A front
// end that reads such a field otherwise than the server would is how
// requests are smuggled. It returns "" for a sound request.
func syntaxError(r *http.Request) string {
	for name := range r.Header {
		if !wsflate.IsToken(name) {
			return fmt.Sprintf("invalid header field name %q", name)
		}
	}
	if !validHost(r.Host) {
		return fmt.Sprintf("invalid Host %q", r.Host)
	}
	return ""
}

// validHost reports whether every byte of host may appear in a uri-host
// and port (RFC 3986 section 3.2.2), the same leniency as net/http's.
func validHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!$%&'()*+,-.:;=[]_~", rune(c)) {
			return false
		}
	}
	return true
}

// Accept checks the request and answers it as the package-level Accept
// does, then returns the connection. When it fails, the client has been
// answered with an HTTP error and the network connection is closed.
func (hs *Handshake) Accept(opts *AcceptOptions) (*Conn, error) {
	if hs.br == nil {
		return nil, errAnswered
	}
	w := &rawResponse{hs: hs}
	c, err := Accept(w, hs.Request, opts)
	defer hs.done()
	if err != nil {
		if !w.hijacked {
			w.finish()
		}
		return nil, err
	}
	return c, nil
}

// Refuse answers the request with an HTTP error status and a one-line
// reason, and closes the connection. Its error is that of the write.
func (hs *Handshake) Refuse(status int, reason string) error {
	if hs.br == nil {
		return errAnswered
	}
	w := &rawResponse{hs: hs}
	http.Error(w, reason, status)
	defer hs.done()
	return w.finish()
}

// refuse is Refuse for a request ReadHandshake could not take: it returns
// the error ReadHandshake reports.
func (hs *Handshake) refuse(status int, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	_ = hs.Refuse(status, reason)
	return &handshakeError{status: status, reason: reason}
}

// rawResponse is the http.ResponseWriter Accept answers through when the
// request came from ReadHandshake. It sends an error response whole, with
// Connection: close, or hands the connection over to Accept.
type rawResponse struct {
	hs       *Handshake
	header   http.Header
	buf      bytes.Buffer
	status   int
	hijacked bool
}

func (w *rawResponse) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *rawResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *rawResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(p)
}

// Hijack gives Accept the connection to write its 101 response on; the
// bytes the client sent past its request are in the reader.
func (w *rawResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status != 0 || w.hijacked {
		return nil, nil, errors.New("starling: response already started")
	}
	w.hijacked = true
	// Accept writes straight to the connection and never uses a writer:
	// making one would only leave garbage.
	return w.hs.nc, bufio.NewReadWriter(w.hs.br, nil), nil
}

// responseHeader returns the header fields the handler set on w for the
// 101 response. A rawResponse's are nil until asked for: nobody but Accept
// holds it, and making an empty map would only leave garbage.
func responseHeader(w http.ResponseWriter) http.Header {
	if rw, ok := w.(*rawResponse); ok {
		return rw.header
	}
	return w.Header()
}

// finish writes the response and closes the connection.
func (w *rawResponse) finish() error {
	defer w.hs.nc.Close()
	if w.status == 0 {
		w.status = http.StatusInternalServerError
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %03d %s\r\n", w.status, http.StatusText(w.status))
	h := w.Header()
	// Close is added to the options Accept named (upgrade, with a 426).
	h.Set("Connection", strings.Join(append(h.Values("Connection"), "close"), ", "))
	h.Set("Content-Length", fmt.Sprint(w.buf.Len()))
	_ = h.Write(&head)
	head.WriteString("\r\n")
	_ = w.hs.nc.SetWriteDeadline(time.Now().Add(DefaultHandshakeTimeout))
	_, err := w.hs.nc.Write(append(head.Bytes(), w.buf.Bytes()...))
	return err
}
