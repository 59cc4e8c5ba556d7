// Package proxy dials WebSocket servers through HTTP CONNECT, HTTPS and
// SOCKS5 proxies. It returns a byte stream to the target; TLS to the
// target, for wss, is the caller's job, so that it stays end to end through
// the tunnel.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Dialer dials addresses through an optional proxy.
type Dialer struct {
	// Proxy returns the proxy for a target URL, or nil for a direct
	// connection. A nil Proxy dials directly; FromEnvironment gives
	// net/http's behaviour. Supported proxy schemes are http, https,
	// socks5 and socks5h; the user info of the proxy URL is sent as Basic
	// credentials (HTTP) or as RFC 1929 username and password (SOCKS5).
	Proxy func(target *url.URL) (*url.URL, error)

	// Forward dials the proxy, or the target when there is no proxy. Nil
	// means a zero net.Dialer.
	Forward func(ctx context.Context, network, addr string) (net.Conn, error)

	// ProxyTLSConfig configures TLS to https proxies. Nil means the
	// default configuration; an empty ServerName is set to the proxy's
	// host, and ALPN is set to http/1.1, the protocol CONNECT is sent in.
	ProxyTLSConfig *tls.Config

	// ConnectHeader holds extra header fields for CONNECT requests, such as
	// a Proxy-Authorization of a scheme other than Basic, which then
	// replaces the one from the proxy URL. A Host field is ignored: Host is
	// always the target.
	ConnectHeader http.Header
}

// DialContext connects to the host and port of target, a ws, wss, http or
// https URL whose missing port defaults to 80 or 443. The proxy handshake
// is bounded by ctx: its deadline applies to the connection, and
// cancelling ctx closes the connection. The returned connection carries no
// deadline.
func (d *Dialer) DialContext(ctx context.Context, target *url.URL) (net.Conn, error) {
	addr, err := targetAddr(target)
	if err != nil {
		return nil, err
	}
	var pu *url.URL
	if d.Proxy != nil {
		if pu, err = d.Proxy(target); err != nil {
			return nil, fmt.Errorf("proxy: choosing a proxy for %s: %w", target.Redacted(), err)
		}
	}
	if pu == nil {
		return d.forward(ctx, "tcp", addr)
	}
	paddr, err := proxyAddr(pu)
	if err != nil {
		return nil, err
	}
	conn, err := d.forward(ctx, "tcp", paddr)
	if err != nil {
		return nil, fmt.Errorf("proxy: dial %s: %w", pu.Redacted(), err)
	}
	c, err := bounded(ctx, conn, func() (net.Conn, error) {
		return d.handshake(ctx, conn, pu, addr)
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// bounded runs handshake on conn under ctx's deadline, and closes conn if
// ctx is cancelled meanwhile. It clears the deadline on success.
func bounded(ctx context.Context, conn net.Conn, handshake func() (net.Conn, error)) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, err := handshake()
	if !stop() {
		// ctx ended during the handshake: whatever err says (typically a
		// closed connection), the cause is ctx.
		return nil, fmt.Errorf("proxy: %w", context.Cause(ctx))
	}
	if err != nil {
		if _, ok := ctx.Deadline(); ok && isTimeout(err) {
			// The only deadline on conn is ctx's, which the conn's
			// timer may have noticed before ctx's own.
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handshake asks the proxy pu, reached by conn, for a tunnel to addr.
func (d *Dialer) handshake(ctx context.Context, conn net.Conn, pu *url.URL, addr string) (net.Conn, error) {
	switch pu.Scheme {
	case "http":
		return d.connect(conn, pu, addr)
	case "https":
		tc := tls.Client(conn, d.proxyTLSConfig(pu))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("proxy: TLS handshake with %s: %w", pu.Redacted(), err)
		}
		return d.connect(tc, pu, addr)
	default: // socks5, socks5h: proxyAddr allowed no other scheme.
		if err := socksConnect(conn, pu, addr); err != nil {
			return nil, err
		}
		return conn, nil
	}
}

func (d *Dialer) proxyTLSConfig(pu *url.URL) *tls.Config {
	cfg := &tls.Config{}
	if d.ProxyTLSConfig != nil {
		cfg = d.ProxyTLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = pu.Hostname()
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

func (d *Dialer) forward(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.Forward != nil {
		return d.Forward(ctx, network, addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}
