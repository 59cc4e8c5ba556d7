package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// FromEnvironment returns the proxy for target from the environment, with
// net/http's rules (http.ProxyFromEnvironment), except that the variables
// are read on every call rather than once per process:
//   - WSS_PROXY and WS_PROXY, the proxies of WebSocket connections only
//     (as Python's websockets reads them), come first for wss and ws
//     targets;
//   - then wss and https targets use HTTPS_PROXY, ws and http targets
//     HTTP_PROXY; the upper-case name wins over the lower-case one;
//   - a value without a scheme means http://, and socks5:// or https://
//     values are allowed;
//   - no proxy is used for localhost, loopback addresses, or hosts that
//     NO_PROXY matches (see noProxy);
//   - HTTP_PROXY is refused when REQUEST_METHOD is set, since a CGI
//     program gets it from the client's Proxy header ("httpoxy").
//
// Unlike net/http, host names are compared without IDNA conversion.
func FromEnvironment(target *url.URL) (*url.URL, error) {
	var value string
	switch target.Scheme {
	case "wss", "https":
		if value = getenv("WSS_PROXY"); value == "" {
			value = getenv("HTTPS_PROXY")
		}
	case "ws", "http":
		if value = getenv("WS_PROXY"); value != "" {
			break
		}
		value = getenv("HTTP_PROXY")
		if value != "" && os.Getenv("REQUEST_METHOD") != "" {
			return nil, errors.New("proxy: refusing HTTP_PROXY in a CGI environment (REQUEST_METHOD is set)")
		}
	}
	if value == "" {
		return nil, nil
	}
	addr, err := targetAddr(target)
	if err != nil {
		return nil, err
	}
	if noProxy(getenv("NO_PROXY"), addr) {
		return nil, nil
	}
	return parseProxyURL(value)
}

// getenv returns the variable name, or its lower-case form if name is
// unset or empty.
func getenv(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return os.Getenv(strings.ToLower(name))
}

// parseProxyURL parses a proxy variable's value, reading a value without
// a scheme as an http URL.
func parseProxyURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + v); err2 == nil {
			return u2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: invalid proxy address %q: %w", v, err)
	}
	return u, nil
}

// noProxy reports whether the host:port addr must be reached directly,
// given a NO_PROXY value. Like net/http it always exempts localhost and
// loopback addresses, and the value is a comma-separated list of:
//   - "*", matching every host;
//   - an IP address or a CIDR block, matching addresses in it, e.g.
//     "10.0.0.0/8" or "::1"; "[::1]:8080" or "1.2.3.4:80" also require
//     the port;
//   - a domain name, matching it and its subdomains: "example.com" and
//     ".example.com" and "*.example.com" all match "a.example.com", and the
//     first one also "example.com" itself; "example.com:8080" also
//     requires the port.
//
// Matching is case-insensitive; IP entries match only literal addresses.
func noProxy(value, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	host = strings.ToLower(host)
	ip := net.ParseIP(host)
	if host == "localhost" || ip != nil && ip.IsLoopback() {
		return true
	}
	for _, entry := range strings.Split(value, ",") {
		if matchEntry(strings.ToLower(strings.TrimSpace(entry)), host, port, ip) {
			return true
		}
	}
	return false
}

// matchEntry reports whether one NO_PROXY entry matches host and port; ip
// is host parsed as an address, or nil.
func matchEntry(entry, host, port string, ip net.IP) bool {
	if entry == "" {
		return false
	}
	if entry == "*" {
		return true
	}
	if _, block, err := net.ParseCIDR(entry); err == nil {
		return ip != nil && block.Contains(ip)
	}
	ehost, eport := entry, ""
	if h, p, err := net.SplitHostPort(entry); err == nil {
		ehost, eport = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), p
	}
	if ehost == "" || eport != "" && eport != port {
		return false
	}
	if eip := net.ParseIP(ehost); eip != nil {
		return ip != nil && eip.Equal(ip)
	}
	exact := !strings.HasPrefix(ehost, ".") && !strings.HasPrefix(ehost, "*.")
	suffix := "." + strings.TrimLeft(strings.TrimPrefix(ehost, "*"), ".")
	return strings.HasSuffix(host, suffix) || exact && host == suffix[1:]
}
