package starling

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/starling-ws/starling/internal/proxy"
	"github.com/starling-ws/starling/internal/wsflate"
)

// DialOptions configures Dial. A nil *DialOptions is valid and means the
// zero value of every field. In a browser (GOOS=js), only Subprotocols,
// the limits, timeouts and callbacks apply; see the package doc.
type DialOptions struct {
	// HTTPHeader holds extra headers for the handshake request, such as
	// Authorization or Cookie. The fields the handshake sets itself (Host,
	// Upgrade, Connection and the Sec-WebSocket ones) are refused: Host,
	// Subprotocols and Compression set them. So are Content-Length and
	// Transfer-Encoding, since the request has no content.
	HTTPHeader http.Header

	// Host overrides the Host header, which defaults to the URL's host.
	Host string

	// Origin sets the Origin header. Default: none.
	Origin string

	// Subprotocols lists the subprotocols to offer, in order of preference.
	// Each must be an HTTP token, listed once (RFC 6455 section 4.1).
	Subprotocols []string

	// TLSConfig configures TLS for wss:// URLs (root CAs, client
	// certificates). ServerName defaults to the URL's host. NextProtos is
	// replaced by http/1.1, the protocol of the handshake. Default: the
	// system roots.
	TLSConfig *tls.Config

	// Pins, if set, pins the server's public key for wss:// URLs, as
	// Starscream does: each pin is the base64 SHA-256 digest of a
	// certificate's SubjectPublicKeyInfo (see PinOf). The dial succeeds only
	// if a pin matches a certificate of the verified chain; otherwise it
	// fails with ErrPinMismatch, inside the TLS handshake, before any
	// WebSocket byte is sent.
	Pins []string

	// PinOnly makes Pins replace certificate verification: a certificate
	// (self-signed, say) whose key is pinned is accepted, provided it is
	// within its validity period; the hostname is not checked. A pinned CA
	// certificate counts only if it signed the chain up to the leaf, since
	// CA certificates are public. Default: false, so pins add to the
	// standard verification.
	PinOnly bool

	// Proxy returns the proxy for a target URL, or nil for a direct
	// connection. Proxy URLs may be http:// (CONNECT, with Basic
	// credentials from the URL's user info), https:// (TLS to the proxy,
	// then CONNECT) or socks5:// and socks5h:// (RFC 1928, with RFC 1929
	// credentials; both let the proxy resolve the server's name, as
	// net/http does). TLS to a wss:// server runs inside the tunnel, end
	// to end. Default (nil): ProxyFromEnvironment. NoProxy dials directly.
	Proxy func(target *url.URL) (*url.URL, error)

	// ProxyTLSConfig configures TLS to https:// proxies. Default: the
	// system roots, with the proxy's host as ServerName.
	ProxyTLSConfig *tls.Config

	// NetDialContext dials the TCP connection to the proxy, or to the
	// server when there is none. Default: a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// HTTP2Transport, if set, opens the connection as a stream of an
	// HTTP/2 connection, with an extended CONNECT (RFC 8441), through this
	// transport. It must send a request's ":protocol" header as that
	// pseudo-header: golang.org/x/net/http2's Transport does, Go 1.26's
	// http.Transport refuses it. For HTTP/3 (RFC 9220), wrap a quic-go
	// transport with the h3 module's RoundTripper. The transport then
	// dials, and does TLS and proxies: TLSConfig, Proxy and NetDialContext
	// do not apply, and Pins is an error (pin in the transport's TLS
	// configuration). The server must have enabled extended CONNECT, or
	// the dial fails.
	HTTP2Transport http.RoundTripper

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

	// OnPing and OnPong, if set, are called from the reading goroutine with
	// the payload of each ping or pong received, before a ping is answered.
	// They must not keep p. Reading waits while they run, so a slow one
	// delays the pong and every later frame: backpressure, by design.
	OnPing, OnPong func(p []byte)
}

// HandshakeError is returned by Dial when the server answers the handshake
// with something other than 101 Switching Protocols. Dial follows no
// redirect (RFC 6455 section 4.1 lets a client not follow them): a 3xx is
// a HandshakeError too, and the response Dial returns has its Location.
type HandshakeError struct {
	StatusCode int    // e.g. 403
	Status     string // e.g. "403 Forbidden"
	Body       string // up to 1 KiB of the response body
}

// Error returns e.g. "starling: handshake refused: 403 Forbidden: origin not allowed".
func (e *HandshakeError) Error() string {
	s := "starling: handshake refused: " + e.Status
	if body := strings.TrimSpace(e.Body); body != "" {
		s += ": " + firstLine(body)
	}
	return s
}

// firstLine returns the first line of a refusal's body for the error
// text, with its control characters as '?': the body is the server's, and
// its escapes could drive the terminal that prints the error, or forge
// log lines.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return '?'
		}
		return r
	}, s)
}

// maxErrorBody bounds the body read from a refused handshake.
const maxErrorBody = 1 << 10

// Dial opens a WebSocket connection to a ws:// or wss:// URL (RFC 6455
// section 4.1); http:// and https:// mean the same. The handshake is
// bounded by ctx; the connection outlives it. The returned response is the
// server's 101 answer, or its refusal when the error is a *HandshakeError;
// its head may be at most 1 MiB long. User info in the URL
// (ws://user:pass@host/) is sent as Basic credentials, as net/http's
// Client sends it, unless HTTPHeader has an Authorization field.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := parseWebSocketURL(rawURL)
	if err != nil {
		return nil, nil, invalidRequest{err}
	}
	if err := checkRequestHeader(opts); err != nil {
		return nil, nil, invalidRequest{err}
	}
	if err := opts.Compression.check(); err != nil {
		return nil, nil, invalidRequest{fmt.Errorf("starling: invalid DialOptions.Compression: %w", err)}
	}
	if u.User != nil {
		opts = withBasicAuth(opts, u.User)
	}
	return dialConn(ctx, u, opts)
}

// refusalBodyWait bounds the wait for the body of a refusal, which Dial
// reads (up to maxErrorBody) into its HandshakeError.
const refusalBodyWait = time.Second

// maxResponseHeaderBytes bounds the head of the server's answer. It is
// roomier than DefaultMaxHeaderBytes, the server's bound on requests: a
// server may set large cookies as it upgrades, and a client dials few
// connections.
const maxResponseHeaderBytes = 1 << 20

// handshakeFields are the request fields the handshake writes itself
// (RFC 6455 section 4.1), with what sets them. One in HTTPHeader as well
// would be sent twice, or, for a subprotocol, offered behind the check of
// the server's choice.
var handshakeFields = map[string]string{
	"Host":           "set DialOptions.Host instead",
	"Upgrade":        "the handshake sets it",
	"Connection":     "the handshake sets it",
	headerKey:        "the handshake sets it",
	headerVersion:    "the handshake sets it",
	headerProtocol:   "set DialOptions.Subprotocols instead",
	headerExtensions: "set DialOptions.Compression instead",
	// The request has no content: a server or proxy that believed these
	// would take the first frames for a body, or wait for one.
	"Content-Length":    "the handshake request has no content",
	"Transfer-Encoding": "the handshake request has no content",
}

// checkRequestHeader refuses what would make the request malformed:
// handshake fields in HTTPHeader, field names that are not tokens, a Host
// with control characters, which could end the field early and start
// another, and invalid subprotocols.
func checkRequestHeader(opts *DialOptions) error {
	for k := range opts.HTTPHeader {
		if !wsflate.IsToken(k) { // RFC 9110 section 5.1
			return fmt.Errorf("starling: invalid header field name %q in DialOptions.HTTPHeader", k)
		}
		if why, ok := handshakeFields[http.CanonicalHeaderKey(k)]; ok {
			name := strings.ReplaceAll(http.CanonicalHeaderKey(k), "Websocket", "WebSocket")
			return fmt.Errorf("starling: DialOptions.HTTPHeader may not hold %s: %s", name, why)
		}
		for _, v := range opts.HTTPHeader[k] {
			if !validFieldValue(v) {
				return fmt.Errorf("starling: invalid value %q of %s in DialOptions.HTTPHeader", v, k)
			}
		}
	}
	if !validFieldValue(opts.Origin) {
		return fmt.Errorf("starling: invalid Origin %q in DialOptions", opts.Origin)
	}
	if strings.ContainsFunc(opts.Host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("starling: invalid Host %q in DialOptions", opts.Host)
	}
	return checkSubprotocols(opts.Subprotocols)
}

// checkSubprotocols refuses what RFC 6455 section 4.1 does not allow in
// Sec-WebSocket-Protocol: an element that is not a token, which would be
// read as another list than the one given ("a,b" as two), or one given
// twice.
func checkSubprotocols(protos []string) error {
	for i, p := range protos {
		if !wsflate.IsToken(p) {
			return fmt.Errorf("starling: invalid subprotocol %q in DialOptions.Subprotocols: not an HTTP token", p)
		}
		if slices.Contains(protos[:i], p) {
			return fmt.Errorf("starling: invalid subprotocol %q in DialOptions.Subprotocols: listed twice", p)
		}
	}
	return nil
}

// withBasicAuth returns opts with user as Basic credentials (RFC 7617) in
// a copy of HTTPHeader, unless it has an Authorization field already.
func withBasicAuth(opts *DialOptions, user *url.Userinfo) *DialOptions {
	if opts.HTTPHeader.Get("Authorization") != "" {
		return opts
	}
	o := *opts
	o.HTTPHeader = opts.HTTPHeader.Clone()
	if o.HTTPHeader == nil {
		o.HTTPHeader = http.Header{}
	}
	pass, _ := user.Password()
	o.HTTPHeader.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pass)))
	return &o
}

// parseWebSocketURL accepts ws and wss URLs, and http and https as their
// equivalents.
func parseWebSocketURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("starling: invalid URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("starling: invalid URL %q: scheme must be ws or wss", rawURL)
	}
	if u.Hostname() == "" {
		// "ws://:80/" would reach this machine, which is not what it says.
		return nil, fmt.Errorf("starling: invalid URL %q: no host", rawURL)
	}
	if strings.Contains(rawURL, "#") {
		// RFC 6455 section 3: fragment identifiers are not allowed, not
		// even empty ones; a '#' that is not one must be escaped (%23).
		return nil, fmt.Errorf("starling: invalid URL %q: fragments are not allowed", rawURL)
	}
	return u, nil
}

// dialTransport connects to the server and, for wss, completes TLS.
func dialTransport(ctx context.Context, u *url.URL, opts *DialOptions) (net.Conn, error) {
	var cfg *tls.Config
	if u.Scheme == "wss" {
		var err error
		if cfg, err = clientTLSConfig(u, opts); err != nil {
			return nil, err
		}
	}
	d := proxy.Dialer{Proxy: opts.Proxy, Forward: opts.NetDialContext, ProxyTLSConfig: opts.ProxyTLSConfig}
	if d.Proxy == nil {
		d.Proxy = ProxyFromEnvironment
	}
	nc, err := d.DialContext(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("starling: dial %s: %w", u.Redacted(), err)
	}
	if cfg == nil {
		return nc, nil
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("starling: TLS handshake with %s: %w", u.Host, err)
	}
	return tc, nil
}

// handshake sends the opening handshake on nc and checks the answer.
func handshake(nc net.Conn, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     opts.HTTPHeader.Clone(),
		Host:       opts.Host,
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Host == "" {
		req.Host = u.Host
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set(headerKey, key)
	offer(req.Header, opts)
	if err := writeRequest(nc, req); err != nil {
		return nil, nil, fmt.Errorf("starling: sending the handshake: %w", err)
	}
	resp, br, err := readHandshakeResponse(nc, req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// The body only words the error: a server that neither ends nor
		// sizes it must not hold the dial until ctx ends, if ever.
		_ = nc.SetReadDeadline(time.Now().Add(refusalBodyWait))
	}
	if err := checkResponse(resp, key, opts.Subprotocols); err != nil {
		return nil, resp, err
	}
	ext, err := dialExtensions(resp.Header, &opts.Compression)
	if err != nil {
		return nil, resp, err
	}
	resp.Body = http.NoBody
	return dialedConn(nc, buffered(br), resp.Header.Get(headerProtocol), ext, opts), resp, nil
}

// readHandshakeResponse reads the server's final answer to req from nc.
// The bytes past its head stay in the returned reader, through which a
// refusal's body is read. The head is bounded as a server bounds the
// request's, so that a server that never ends it cannot fill memory until
// ctx ends, if it ever does.
func readHandshakeResponse(nc net.Conn, req *http.Request) (*http.Response, *bufio.Reader, error) {
	src := &eofReader{r: nc}
	lr := &io.LimitedReader{R: src, N: maxResponseHeaderBytes}
	br := bufio.NewReaderSize(lr, 1024)
	resp, err := readFinalResponse(br, req)
	switch {
	case err != nil && lr.N == 0:
		return nil, nil, badResponse("the response head exceeds %d bytes", maxResponseHeaderBytes)
	case err != nil && src.eof:
		// The parser's complaint would be about a line cut short, as if
		// the server had sent it so.
		where := "in the middle of its response"
		if lr.N == maxResponseHeaderBytes {
			where = "without answering"
		}
		return nil, nil, fmt.Errorf("starling: reading the handshake response: the server closed the connection %s: %w", where, io.ErrUnexpectedEOF)
	case err != nil:
		return nil, nil, fmt.Errorf("starling: reading the handshake response: %w", err)
	}
	lr.N = 1<<63 - 1
	return resp, br, nil
}

// eofReader is a reader that remembers whether r has ended.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// readFinalResponse reads the server's answer, skipping the informational
// (1xx) responses other than 101 that may come first: RFC 9110 section
// 15.2 requires a client to parse them even unasked, and a server may send
// 103 Early Hints (RFC 8297). The caller's bound on the bytes read bounds
// how many there may be.
func readFinalResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, err
		}
	}
}

// offer sets the request headers that every opening handshake carries,
// over HTTP/1.1 or HTTP/2: the version, and what opts offers.
func offer(h http.Header, opts *DialOptions) {
	h.Set(headerVersion, "13")
	if opts.Origin != "" {
		h.Set("Origin", opts.Origin)
	}
	if len(opts.Subprotocols) > 0 {
		h.Set(headerProtocol, strings.Join(opts.Subprotocols, ", "))
	}
	if opts.Compression.Mode != CompressionDisabled {
		h.Set(headerExtensions, wsflate.ClientOffer(opts.Compression.config()))
	}
}

// dialedConn returns the client Conn over rwc that opts describes.
func dialedConn(rwc io.ReadWriteCloser, early []byte, subprotocol string, ext *extensions, opts *DialOptions) *Conn {
	return newConn(connConfig{
		rwc:          rwc,
		early:        early,
		client:       true,
		subprotocol:  subprotocol,
		ext:          ext,
		readLimit:    opts.ReadLimit,
		maxFragments: opts.MaxFragments,
		writeTimeout: opts.WriteTimeout,
		idleTimeout:  opts.IdleTimeout,
		onPing:       opts.OnPing,
		onPong:       opts.OnPong,
	})
}

// writeRequest writes the request line and headers, and nothing else.
func writeRequest(w io.Writer, req *http.Request) error {
	bw := bufio.NewWriterSize(w, 1024)
	fmt.Fprintf(bw, "GET %s HTTP/1.1\r\nHost: %s\r\n", req.URL.RequestURI(), req.Host)
	if err := req.Header.Write(bw); err != nil {
		return err
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// checkResponse applies the rules of RFC 6455 section 4.1 to the server's
// answer.
func checkResponse(resp *http.Response, key string, offered []string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return refusal(resp)
	}
	switch {
	case !hasToken(resp.Header, "Upgrade", "websocket"):
		return badResponse("missing Upgrade: websocket")
	case !hasToken(resp.Header, "Connection", "upgrade"):
		return badResponse("missing Connection: Upgrade")
	case len(resp.Header.Values(headerAccept)) > 1:
		// Two fields are one list-valued field (RFC 9110 section 5.3),
		// never the single value section 4.1 requires.
		return badResponse("Sec-WebSocket-Accept sent %d times", len(resp.Header.Values(headerAccept)))
	case resp.Header.Get(headerAccept) != acceptKey(key):
		return badResponse("Sec-WebSocket-Accept %q does not match the key", resp.Header.Get(headerAccept))
	}
	return checkSubprotocol(resp.Header, offered)
}

// refusal returns the HandshakeError of a response that refused the
// handshake, with the start of its body, which it closes.
func refusal(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Body: string(body)}
}

// checkSubprotocol checks that the server chose at most one subprotocol,
// and one that was offered (RFC 6455 section 4.1).
func checkSubprotocol(h http.Header, offered []string) error {
	if protos := headerTokens(h, headerProtocol); len(protos) > 0 {
		if len(protos) > 1 || !slices.Contains(offered, protos[0]) {
			return badResponse("server chose subprotocol %q, which was not offered", strings.Join(protos, ", "))
		}
	}
	return nil
}

func badResponse(format string, args ...any) error {
	return fmt.Errorf("starling: invalid handshake response: "+format, args...)
}

// validFieldValue reports whether v may be sent as a field value: RFC 9110
// section 5.5 allows no control character but horizontal tab, and a line
// break would end the field early.
func validFieldValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}
