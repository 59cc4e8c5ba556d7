package starling

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// CloseError reports the close status that ended a connection: the code and
// reason of the peer's close frame, the code with which Starling failed the
// connection after a protocol violation, or StatusAbnormalClosure when the
// connection ended without a close frame. Use errors.As or CloseStatus to
// get it from an error returned by a Conn.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns a description such as `status 4001: "bye"`, or
// `status 1001 (going away)` for a close without a reason.
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("status %v", e.Code)
	}
	return fmt.Sprintf("status %v: %q", e.Code, e.Reason)
}

// CloseStatus returns the code of the CloseError in err's chain, or -1 if
// there is none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// Errors for misuse of a Conn. They are returned, never panicked.
var (
	// ErrConcurrentRead is returned when a second goroutine reads while a
	// read is in progress.
	ErrConcurrentRead = errors.New("starling: concurrent read: only one goroutine may read at a time")
	// ErrMessageTooBig is in the chain of the error returned when a message
	// exceeds the read limit (the connection is then failed with 1009).
	ErrMessageTooBig = errors.New("starling: message exceeds the read limit")
	// ErrClosed is returned for operations on a connection that is closed,
	// unless a more precise cause is known: the peer's close frame (a
	// *CloseError) or the failure that ended it, whose code CloseStatus
	// reports. It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("starling: connection closed: %w", net.ErrClosed)
	// ErrInvalidStatus is returned by Close for a code that may not be
	// sent, such as 1005 or 1006.
	ErrInvalidStatus = errors.New("starling: status code may not be sent in a close frame")
	// ErrControlTooLong is returned for a ping, pong or close payload over 125 bytes.
	ErrControlTooLong = errors.New("starling: control frame payload exceeds 125 bytes")
	// ErrInvalidRequest is in the chain of Dial's error when the URL or
	// DialOptions describe a handshake request that no server could
	// accept: a URL that does not parse, or has another scheme than ws,
	// wss, http or https, no host or a fragment; a header field the
	// handshake sets itself; an invalid subprotocol, pin or compression
	// option. Nothing was sent, and a retry cannot succeed.
	ErrInvalidRequest = errors.New("starling: invalid handshake request")
)

// protocolError fails a connection: code goes on the wire and in the error.
func protocolError(code StatusCode, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	return &failure{ce: CloseError{Code: code, Reason: reason}}
}

// failure is an error for which Starling failed the connection itself.
type failure struct {
	ce  CloseError
	err error // an underlying cause, such as ErrMessageTooBig
}

func (f *failure) Error() string {
	return "starling: failed the connection with " + f.ce.Error()
}

func (f *failure) Unwrap() []error {
	if f.err != nil {
		return []error{&f.ce, f.err}
	}
	return []error{&f.ce}
}

// invalidRequest is an error of Dial's checks before it connects: its text
// is err's, and it is in the chain of ErrInvalidRequest too.
type invalidRequest struct{ err error }

func (e invalidRequest) Error() string   { return e.err.Error() }
func (e invalidRequest) Unwrap() []error { return []error{e.err, ErrInvalidRequest} }

// closedByContext is the error of calls made after a call's context ended
// partway through a message, or a write, and so closed the connection.
// That call returned the context's error; later ones must not, or a loop
// that reads with a timeout and goes on when it passes would never learn
// that the connection is gone. So it is ErrClosed, and only says why:
// neither the context's error nor its cause (for NetConn,
// os.ErrDeadlineExceeded) is in its chain.
type closedByContext struct{ err error }

func (e *closedByContext) Error() string {
	return "starling: connection closed when the context of a read or write in progress ended: " +
		strings.TrimPrefix(e.err.Error(), "starling: ")
}

func (e *closedByContext) Unwrap() error { return ErrClosed }

// isContextError reports whether err is a context's.
func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
