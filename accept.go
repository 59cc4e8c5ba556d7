package starling

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// AcceptOptions configures Accept. A nil *AcceptOptions is valid and means
// the zero value of every field, which is the safe default.
type AcceptOptions struct {
	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference. The first one the client also offers is chosen. Default:
	// none, so no subprotocol is selected.
	Subprotocols []string

	// OriginPatterns lists the hosts, beyond the request's own Host, whose
	// pages may open a WebSocket to this server. Each is matched against
	// the Origin header's host, with its port if it has one, with
	// path.Match, case-insensitively: "*.example.com" matches
	// https://a.example.com but not https://a.example.com:8443, which
	// "*.example.com:8443" or "*.example.com:*" does. Default: none, so
	// only same-origin requests and requests without Origin (non-browser
	// clients) pass, and other origins are answered 403, which stops
	// cross-site WebSocket hijacking.
	OriginPatterns []string

	// InsecureSkipOriginCheck accepts requests from any origin. Use it only
	// when the endpoint carries no authority from cookies or other ambient
	// credentials. Default: false.
	InsecureSkipOriginCheck bool

	// Compression configures permessage-deflate (RFC 7692). Default:
	// disabled.
	Compression CompressionOptions

	// ReadLimit is the largest message accepted, in bytes after
	// decompression. Default: DefaultReadLimit (32 MiB). Negative: no
	// limit.
	ReadLimit int64

	// MaxFragments is the most frames a message may span. Default (0,
	// and also a negative value, unlike ReadLimit): DefaultMaxFragments.
	MaxFragments int

	// WriteTimeout bounds how long writing one frame may take; a peer that
	// stops reading then fails the write, and the connection is closed.
	// Default: DefaultWriteTimeout (30s). Negative: no timeout.
	WriteTimeout time.Duration

	// IdleTimeout, if positive, closes the connection with 1001 (going
	// away) when no frame arrives for that long. Default: no idle timeout;
	// the client package's heartbeat is the gentler way to find dead peers.
	IdleTimeout time.Duration

	// Group, if set, receives every accepted connection, so that
	// Group.Shutdown can close them all. Default: none.
	Group *Group

	// OnPing and OnPong, if set, are called from the reading goroutine with
	// the payload of each ping or pong received, before a ping is answered.
	// They must not keep p. Reading waits while they run, so a slow one
	// delays the pong and every later frame: backpressure, by design.
	OnPing, OnPong func(p []byte)
}

// ErrBadHandshake is in the chain of every error Accept returns for a
// request that is not a valid WebSocket handshake.
var ErrBadHandshake = errors.New("starling: bad handshake")

// handshakeError is a refused handshake: the HTTP status and the one-line
// reason sent back.
type handshakeError struct {
	status int
	reason string
	allow  string // the method to name in Allow, with 405
}

func (e *handshakeError) Error() string {
	return fmt.Sprintf("starling: bad handshake: %s", e.reason)
}

func (e *handshakeError) Unwrap() error { return ErrBadHandshake }

// Accept upgrades an HTTP request to a WebSocket connection (RFC 6455
// section 4.2), or, on HTTP/2, accepts an extended CONNECT (RFC 8441): see
// http2.go. A request that is not a valid handshake is answered with an
// HTTP error and a one-line reason (405 for another method, 426 for another
// protocol version, 403 for a refused origin, 400 otherwise), and Accept
// returns an error that says which rule failed.
//
// Headers set on w before the call go out with the 101 response.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if err := opts.Compression.check(); err != nil {
		// The server's mistake, not the client's: 500, without details.
		http.Error(w, "the WebSocket endpoint is misconfigured", http.StatusInternalServerError)
		return nil, fmt.Errorf("starling: invalid AcceptOptions.Compression: %w", err)
	}
	key, err := checkRequest(r)
	if err == nil {
		err = checkOrigin(r, opts)
	}
	if err != nil {
		var he *handshakeError
		if errors.As(err, &he) {
			if he.status == http.StatusUpgradeRequired {
				upgradeRequired(w.Header(), r)
			}
			if he.status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", he.allow)
			}
			http.Error(w, he.reason, he.status)
		}
		return nil, err
	}
	subp := selectSubprotocol(r.Header, opts.Subprotocols)
	ext, extResponse := acceptExtensions(r.Header, &opts.Compression)
	cfg := connConfig{
		subprotocol:  subp,
		ext:          ext,
		readLimit:    opts.ReadLimit,
		maxFragments: opts.MaxFragments,
		writeTimeout: opts.WriteTimeout,
		idleTimeout:  opts.IdleTimeout,
		onPing:       opts.OnPing,
		onPong:       opts.OnPong,
		group:        opts.Group,
	}
	if r.ProtoMajor >= 2 {
		err = acceptStream(w, r, &cfg, subp, extResponse)
	} else {
		err = acceptHijacked(w, r, &cfg, key, subp, extResponse)
	}
	if err != nil {
		return nil, err
	}
	c := newConn(cfg)
	if s, ok := cfg.rwc.(*stream); ok {
		s.conn = c // so that a write timing out closes c with its cause
	}
	if opts.Group != nil && !opts.Group.add(c) {
		_ = c.Close(StatusGoingAway, "server shutting down")
		return nil, fmt.Errorf("starling: server shutting down: %w", ErrClosed)
	}
	return c, nil
}

// upgradeRequired sets the fields of a 426 answer: the version this server
// speaks (RFC 6455 section 4.4) and, over HTTP/1.1, the protocol to
// upgrade to, which RFC 9110 section 15.5.22 requires, with the connection
// option section 7.8 requires of an Upgrade field. HTTP/2 has neither
// field (RFC 9113 section 8.2.2).
func upgradeRequired(h http.Header, r *http.Request) {
	h.Set(headerVersion, "13")
	if r.ProtoMajor == 1 {
		h.Set("Upgrade", "websocket")
		h.Set("Connection", "Upgrade")
	}
}

// acceptHijacked takes over an HTTP/1.1 connection and answers 101
// Switching Protocols (RFC 6455 section 4.2.2).
func acceptHijacked(w http.ResponseWriter, r *http.Request, cfg *connConfig, key, subp, extResponse string) error {
	netConn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if errors.Is(err, http.ErrHijacked) {
			// Accept was called twice: the connection is no longer the
			// response's to answer on.
			return fmt.Errorf("starling: cannot take over the connection: %w", err)
		}
		http.Error(w, "websocket upgrade not supported", http.StatusInternalServerError)
		if errors.Is(err, http.ErrNotSupported) {
			// Most often a middleware's wrapper that hides the server's
			// ResponseWriter.
			return fmt.Errorf("starling: cannot take over the connection: the ResponseWriter, a %T, is no http.Hijacker and has no Unwrap() http.ResponseWriter method leading to one: %w", w, err)
		}
		return fmt.Errorf("starling: cannot take over the connection: %w", err)
	}
	// Hijacked connections may keep the server's deadlines; replace them
	// with one bound for the response.
	_ = netConn.SetDeadline(time.Now().Add(DefaultHandshakeTimeout))
	if err := writeSwitching(netConn, responseHeader(w), key, subp, extResponse); err != nil {
		netConn.Close()
		return fmt.Errorf("starling: writing the handshake response: %w", err)
	}
	_ = netConn.SetDeadline(time.Time{})
	cfg.rwc, cfg.early = netConn, buffered(brw.Reader)
	return nil
}

// strippedHint explains a request that is a WebSocket handshake but for its
// Connection or Upgrade header: what is left of one that passed a proxy not
// set to forward those two hop-by-hop headers (RFC 9110 section 7.6.1).
func strippedHint(r *http.Request) string {
	if r.Header.Get(headerKey) == "" {
		return ""
	}
	return " (the request has a Sec-WebSocket-Key: a proxy on its way may have dropped the hop-by-hop Connection and Upgrade headers, and must be set to forward them)"
}

// checkRequest applies the rules of RFC 6455 section 4.2.1 and returns the
// client's key.
func checkRequest(r *http.Request) (string, error) {
	refuse := func(status int, format string, args ...any) (string, error) {
		return "", &handshakeError{status: status, reason: fmt.Sprintf(format, args...)}
	}
	if r.ProtoMajor >= 2 {
		return "", checkExtendedConnect(r)
	}
	switch {
	case r.Method != http.MethodGet:
		return "", &handshakeError{status: http.StatusMethodNotAllowed, allow: http.MethodGet, reason: fmt.Sprintf("method %s not allowed: a WebSocket handshake is a GET", r.Method)}
	case !r.ProtoAtLeast(1, 1):
		return refuse(http.StatusBadRequest, "%s cannot carry a WebSocket handshake: HTTP/1.1 or later is required", r.Proto)
	case r.Host == "":
		// net/http lets an empty Host through, and ReadHandshake a missing
		// one; section 4.2.1 requires the server's authority in it.
		return refuse(http.StatusBadRequest, "missing Host: a WebSocket handshake must name the server's authority")
	case r.ContentLength != 0 || len(r.TransferEncoding) > 0:
		// Content would come before the first frame (RFC 9110 section
		// 7.8: the protocol switches where the request ends), and nothing
		// would read it but the frame parser.
		return refuse(http.StatusBadRequest, "a WebSocket handshake request has no content, and this one has a body")
	case !hasToken(r.Header, "Connection", "upgrade"):
		return refuse(http.StatusBadRequest, "missing Connection: Upgrade%s", strippedHint(r))
	case !hasToken(r.Header, "Upgrade", "websocket"):
		return refuse(http.StatusBadRequest, "missing Upgrade: websocket%s", strippedHint(r))
	case r.Header.Get(headerVersion) != "13":
		return refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version %q: only 13 is supported", r.Header.Get(headerVersion))
	}
	keys := r.Header.Values(headerKey)
	if len(keys) != 1 {
		return refuse(http.StatusBadRequest, "want exactly one Sec-WebSocket-Key, got %d", len(keys))
	}
	key := strings.TrimSpace(keys[0])
	if !validKey(key) {
		return refuse(http.StatusBadRequest, "Sec-WebSocket-Key %q is not 16 bytes in base64", key)
	}
	return key, nil
}

// checkOrigin refuses cross-origin requests not allowed by opts (RFC 6455
// section 10.2).
func checkOrigin(r *http.Request, opts *AcceptOptions) error {
	origin := r.Header.Get("Origin")
	if origin == "" || opts.InsecureSkipOriginCheck {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return &handshakeError{status: http.StatusForbidden, reason: fmt.Sprintf("origin not allowed: unparsable Origin %q", origin)}
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	host := strings.ToLower(u.Host)
	for _, pattern := range opts.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(pattern), host); ok {
			return nil
		}
	}
	return &handshakeError{status: http.StatusForbidden, reason: fmt.Sprintf("origin not allowed: %s", origin)}
}

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered (RFC 6455 section 4.2.2), or "".
func selectSubprotocol(h http.Header, supported []string) string {
	offered := headerTokens(h, headerProtocol)
	for _, p := range supported {
		if slices.Contains(offered, p) {
			return p
		}
	}
	return ""
}

// validKey reports whether key is 16 bytes in base64, as RFC 6455 section
// 4.1 requires of Sec-WebSocket-Key.
func validKey(key string) bool {
	if len(key) != base64.StdEncoding.EncodedLen(16) {
		return false
	}
	var raw [18]byte // DecodedLen of 24 characters
	n, err := base64.StdEncoding.Decode(raw[:], []byte(key))
	return err == nil && n == 16
}

// responseBuffers hold the 101 responses while they are composed, so that
// a server accepting many connections leaves no garbage buffer behind each.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeSwitching writes the 101 response (RFC 6455 section 4.2.2).
func writeSwitching(w io.Writer, extra http.Header, key, subprotocol, extensions string) error {
	b := responseBuffers.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= 4<<10 { // one that a handler's headers grew is not kept
			responseBuffers.Put(b)
		}
	}()
	b.Reset()
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.Write(appendAcceptKey(b.AvailableBuffer(), key))
	b.WriteString("\r\n")
	if subprotocol != "" {
		b.WriteString("Sec-WebSocket-Protocol: " + subprotocol + "\r\n")
	}
	if extensions != "" {
		b.WriteString("Sec-WebSocket-Extensions: " + extensions + "\r\n")
	}
	if len(extra) > 0 {
		h := extra.Clone()
		for _, k := range []string{"Upgrade", "Connection", headerAccept, headerProtocol, headerExtensions, "Content-Length", "Transfer-Encoding", "Content-Type"} {
			h.Del(k)
		}
		if err := h.Write(b); err != nil {
			return err
		}
	}
	b.WriteString("\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

// buffered returns what br holds: bytes the peer sent right after its
// handshake, which belong to the WebSocket connection.
func buffered(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return b
}
