package proxy

import (
	"fmt"
	"net"
	"net/url"
)

// targetAddr returns the host:port to tunnel to for a WebSocket URL
// (RFC 6455 section 3: ws defaults to port 80, wss to 443).
func targetAddr(u *url.URL) (string, error) {
	var port string
	switch u.Scheme {
	case "ws", "http":
		port = "80"
	case "wss", "https":
		port = "443"
	default:
		return "", fmt.Errorf("proxy: unsupported target scheme %q", u.Scheme)
	}
	return hostPort(u, port)
}

// proxyAddr returns the host:port of a proxy URL, with the default port of
// its scheme (1080 for SOCKS, RFC 1928 section 3).
func proxyAddr(u *url.URL) (string, error) {
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	case "socks5", "socks5h":
		port = "1080"
	default:
		return "", fmt.Errorf("proxy: unsupported proxy scheme %q in %s", u.Scheme, u.Redacted())
	}
	return hostPort(u, port)
}

func hostPort(u *url.URL, defaultPort string) (string, error) {
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", fmt.Errorf("proxy: no host in %s", u.Redacted())
	}
	if port == "" {
		port = defaultPort
	}
	return net.JoinHostPort(host, port), nil
}
