package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	if err == nil && u.Scheme != "" && u.Host != "" {
		return u, nil
	}
	u, err2 := url.Parse("http://" + v)
	if err2 == nil {
		return u, nil
	}
	if err == nil {
		// "user:pass@host" parsed as a URL of scheme "user", but not
		// with http:// before it.
		err = err2
	}
	return nil, invalidProxyValue(v, err)
}

// invalidProxyValue returns the error for a proxy variable's value v that
// did not parse. It hides the user info, which url.URL.Redacted cannot do
// for a URL that did not parse, and which the parser's complaint may quote.
func invalidProxyValue(v string, err error) error {
	if at := strings.LastIndex(v, "@"); at >= 0 {
		// The likely cause is a reserved character left raw in the
		// password.
		start := 0
		if i := strings.Index(v[:at], "://"); i >= 0 {
			start = i + len("://")
		}
		return fmt.Errorf("proxy: invalid proxy address %q: percent-encode the reserved characters of the user name and password (RFC 3986 section 3.2.1)", v[:start]+"xxxxx"+v[at:])
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URL, quoted already
	}
	return fmt.Errorf("proxy: invalid proxy address %q: %w", v, err)
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
// Matching is case-insensitive; IP entries match only literal addresses,
// and domain entries only names.
func noProxy(value, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	host = strings.ToLower(host)
	// netip, unlike net.ParseIP, reads an address with a zone ("::1%lo"),
	// which is an address all the same.
	var ip net.IP
	if a, err := netip.ParseAddr(host); err == nil {
		ip = net.IP(a.AsSlice())
	}
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
	if ip != nil {
		// A domain entry names hosts, never an address, even one whose
		// text it ends ("0.1" and "10.0.0.1").
		return false
	}
	exact := !strings.HasPrefix(ehost, ".") && !strings.HasPrefix(ehost, "*.")
	suffix := "." + strings.TrimLeft(strings.TrimPrefix(ehost, "*"), ".")
	return strings.HasSuffix(host, suffix) || exact && host == suffix[1:]
}
