package proxy

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrAuth is matched, through errors.Is, by the error of a proxy that
// rejects or requires credentials: an HTTP 407 response, a failed SOCKS5
// username/password exchange (RFC 1929), or a SOCKS5 proxy that accepts
// none of the offered authentication methods.
var ErrAuth = errors.New("proxy: authentication failed")

// Error is an HTTP proxy's refusal of a CONNECT request: a response whose
// status is not 2xx.
type Error struct {
	Proxy      string      // the proxy URL, password redacted
	Target     string      // the host:port the tunnel was asked for
	StatusCode int         // such as 407
	Status     string      // the status line without the version, such as "407 Proxy Authentication Required"
	Header     http.Header // the response's header fields, such as Proxy-Authenticate
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("proxy %s refused CONNECT %s: %s", e.Proxy, e.Target, e.Status)
}

// Is makes errors.Is(err, ErrAuth) true for a 407 response.
func (e *Error) Is(target error) bool {
	return target == ErrAuth && e.StatusCode == http.StatusProxyAuthRequired
}

// SOCKSError is a SOCKS5 proxy's refusal of a CONNECT request: a reply
// whose REP field is not 0 (RFC 1928 section 6).
type SOCKSError struct {
	Proxy  string // the proxy URL, password redacted
	Target string // the host:port the tunnel was asked for
	Reply  byte   // the REP field
}

// Error implements error.
func (e *SOCKSError) Error() string {
	return fmt.Sprintf("proxy %s refused CONNECT %s: SOCKS5 reply %d (%s)", e.Proxy, e.Target, e.Reply, socksReplyText(e.Reply))
}

// socksReplyText returns the meaning RFC 1928 section 6 gives to a reply
// code.
func socksReplyText(rep byte) string {
	switch rep {
	case 0:
		return "succeeded"
	case 1:
		return "general SOCKS server failure"
	case 2:
		return "connection not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	}
	return "unassigned reply code"
}
