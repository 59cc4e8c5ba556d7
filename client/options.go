package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/starling-ws/starling"
)

// Defaults for the zero values of Options and ReconnectPolicy.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxQueuedBytes   = 4 << 20
	DefaultMinDelay         = 100 * time.Millisecond
	DefaultMaxDelay         = 30 * time.Second
)

// Options configures a Client. A nil *Options is valid and means the zero
// value of every field.
type Options struct {
	// Header holds extra headers for the handshake request, such as
	// Authorization or Cookie.
	Header http.Header

	// Origin sets the Origin header. Default: none.
	Origin string

	// Subprotocols lists the subprotocols to offer, in order of preference.
	Subprotocols []string

	// TLSConfig configures TLS for wss:// URLs. Default: the system roots.
	TLSConfig *tls.Config

	// Pins and PinOnly pin the server's public key for wss:// URLs, as
	// Starscream's certificate pinning does; see starling.DialOptions.
	Pins    []string
	PinOnly bool

	// Proxy returns the proxy (http, https, socks5 or socks5h URL) for a
	// target, or nil to dial directly; ProxyTLSConfig configures TLS to
	// an https proxy. Default: starling.ProxyFromEnvironment. See
	// starling.DialOptions.
	Proxy          func(target *url.URL) (*url.URL, error)
	ProxyTLSConfig *tls.Config

	// NetDialContext dials the TCP connection to the proxy, or to the
	// server when there is none. Default: a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Compression configures permessage-deflate (RFC 7692). Default:
	// disabled.
	Compression starling.CompressionOptions

	// HandshakeTimeout bounds each dial and opening handshake. Default:
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// ReadLimit is the largest message accepted, in bytes. Default:
	// starling.DefaultReadLimit.
	ReadLimit int64

	// WriteTimeout bounds the writing of one frame; a server that stops
	// reading then fails the connection. Default: starling's default.
	WriteTimeout time.Duration

	// MaxQueuedBytes bounds the payload bytes queued and not yet written.
	// A write that would exceed it fails at once with ErrQueueFull, except
	// when nothing at all is queued, so one message larger than the bound
	// can still be sent. Default: DefaultMaxQueuedBytes (4 MiB).
	MaxQueuedBytes int

	// HeartbeatInterval is the time between pings; each answer arrives as
	// a Pong event. Zero turns the heartbeat off, and with it
	// ViabilityChanged and the unviable ReconnectSuggested. In a browser,
	// which cannot send pings, every ping is answered at once: there the
	// browser's own WebSocket finds a dead connection, and the client
	// sees it end.
	HeartbeatInterval time.Duration

	// HeartbeatTimeout is how long the connection may receive nothing at
	// all (no message, ping or pong) before it is reported unviable. The
	// time reading waits for a slow receiver does not count. Default:
	// twice HeartbeatInterval.
	HeartbeatTimeout time.Duration

	// SuggestReconnectAfter is how long a connection may stay unviable
	// before ReconnectSuggested{true}; with a Reconnect policy the client
	// then also drops the connection and reconnects. Default: twice
	// HeartbeatTimeout.
	SuggestReconnectAfter time.Duration

	// Reconnect, if set, makes the client reconnect by itself.
	Reconnect *ReconnectPolicy

	// Executor, if set, runs each delivery to the Delegate or the OnEvent
	// function, for example on an application's own event loop. The client
	// waits for each delivery to finish before the next, so events stay
	// one at a time and in order. It does not apply to Events.
	Executor func(func())
}

// ReconnectPolicy makes a Client reconnect after a connection ends with
// abnormal closure (1006: a network error, a dropped TCP connection, a
// failed dial), going away (1001), internal error (1011), service restart
// (1012), try again later (1013) or a bad gateway (1014), and after a dial
// refused, by the server or a proxy, with an HTTP 5xx, 408 or 429. It never
// reconnects after a normal closure (1000) or any other code, after a
// refused handshake otherwise, after a URL or Options that no dial can
// succeed with (starling.ErrInvalidRequest), or after Disconnect or
// ForceDisconnect.
//
// The delay before attempt n is drawn uniformly from [MinDelay,
// min(MaxDelay, MinDelay·2ⁿ)]: exponential backoff with full jitter above
// a floor, so a fleet of clients does not reconnect in step.
type ReconnectPolicy struct {
	// MinDelay and MaxDelay bound the delay. Defaults: DefaultMinDelay and
	// DefaultMaxDelay.
	MinDelay, MaxDelay time.Duration

	// MaxAttempts is the most reconnect attempts in a row; the count
	// starts again after each successful opening handshake. Zero means no
	// limit.
	MaxAttempts int

	// KeepQueued keeps the writes still queued when a connection ends and
	// sends them on the next one; their done functions are called then.
	// If false they fail with ErrDisconnected as the connection ends.
	KeepQueued bool

	// OnReconnect, if set, runs after each reconnect's Connected event,
	// on the delivery goroutine (so no event is delivered meanwhile), for
	// resubscribing. The writes made while it runs go out first: before
	// the writes kept from the previous connection, and before those made
	// since the reconnect. Nothing is written on the new connection until
	// it returns.
	OnReconnect func(c *Client)
}
