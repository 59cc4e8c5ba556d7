package starling

import (
	"net/url"

	"github.com/starling-ws/starling/internal/proxy"
)

// ProxyFromEnvironment returns the proxy for target from the environment,
// as net/http does: HTTPS_PROXY for wss, HTTP_PROXY for ws, and no proxy for
// loopback addresses and hosts matched by NO_PROXY. WSS_PROXY and WS_PROXY,
// proxies for WebSocket connections alone, come before them, as in
// Python's websockets. Each name may be lower case; the variables are read
// on every call.
func ProxyFromEnvironment(target *url.URL) (*url.URL, error) { return proxy.FromEnvironment(target) }

// ProxyURL returns a DialOptions.Proxy that always uses the proxy u.
func ProxyURL(u *url.URL) func(*url.URL) (*url.URL, error) {
	return func(*url.URL) (*url.URL, error) { return u, nil }
}

// NoProxy is a DialOptions.Proxy that always dials directly.
func NoProxy(*url.URL) (*url.URL, error) { return nil, nil }

// ProxyError is in the chain of the error Dial returns when an HTTP proxy
// refuses the tunnel; its message carries the proxy's status line, such as
// "407 Proxy Authentication Required".
type ProxyError = proxy.Error

// ProxySOCKSError is in the chain of the error Dial returns when a SOCKS5
// proxy refuses the tunnel; its message gives the meaning of the reply code
// (RFC 1928 section 6).
type ProxySOCKSError = proxy.SOCKSError

// ErrProxyAuth is in the chain of the error Dial returns when a proxy
// refuses the credentials: a 407, or a failed SOCKS5 login.
var ErrProxyAuth = proxy.ErrAuth
