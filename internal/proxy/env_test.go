package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNoProxy(t *testing.T) {
	tests := []struct {
		noProxy string
		addr    string
		want    bool // true: direct
	}{
		// Always direct.
		{"", "localhost:80", true},
		{"", "127.0.0.1:443", true},
		{"", "127.1.2.3:443", true},
		{"", "[::1]:80", true},
		{"", "example.com:443", false},
		{"*", "example.com:443", true},
		{" * ", "10.0.0.1:80", true},
		// Domains match themselves and subdomains.
		{"example.com", "example.com:443", true},
		{"example.com", "a.b.example.com:443", true},
		{"example.com", "badexample.com:443", false},
		{"example.com", "example.com.evil.net:443", false},
		{".example.com", "example.com:443", false},
		{".example.com", "a.example.com:443", true},
		{"*.example.com", "example.com:443", false},
		{"*.example.com", "a.example.com:443", true},
		{"EXAMPLE.com", "Example.COM:443", true},
		// Ports.
		{"example.com:8080", "example.com:8080", true},
		{"example.com:8080", "example.com:443", false},
		{".example.com:443", "a.example.com:443", true},
		// Lists, spaces, empty and malformed entries.
		{"foo.net, example.com ,bar.org", "example.com:80", true},
		{",,", "example.com:80", false},
		{":80", "example.com:80", false},
		{":80", "example.com.:80", false},
		{"foo.net,bar.org", "example.com:80", false},
		// IP addresses and blocks match literal addresses only.
		{"10.0.0.1", "10.0.0.1:80", true},
		{"10.0.0.1", "10.0.0.2:80", false},
		{"10.0.0.1:80", "10.0.0.1:443", false},
		{"10.0.0.0/8", "10.200.3.4:443", true},
		{"10.0.0.0/8", "11.0.0.1:443", false},
		{"10.0.0.0/8", "ten.example:443", false},
		{"2001:db8::/32", "[2001:db8::5]:443", true},
		{"2001:db8::1", "[2001:db8::1]:443", true},
		{"[2001:db8::1]:443", "[2001:db8::1]:443", true},
		{"[2001:db8::1]:443", "[2001:db8::1]:80", false},
		// A domain entry never matches an address, even one it is a
		// suffix of, as in net/http.
		{"0.0.1", "10.0.0.1:80", false},
		{".0.1", "10.0.0.1:80", false},
		{"db8::1", "[2001:db8::1]:443", false},
		// Addresses with a zone are addresses: loopback is direct, and IP
		// entries match them, as in net/http.
		{"", "[::1%lo]:80", true},
		{"fe80::1", "[fe80::1%eth0]:80", true},
		{"fe80::/10", "[fe80::1%eth0]:80", true},
	}
	for _, tt := range tests {
		if got := noProxy(tt.noProxy, tt.addr); got != tt.want {
			t.Errorf("noProxy(%q, %q) = %v, want %v", tt.noProxy, tt.addr, got, tt.want)
		}
	}
}

// clearEnv unsets every variable FromEnvironment reads, for this test.
func clearEnv(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "WS_PROXY", "ws_proxy", "WSS_PROXY", "wss_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
}

func TestFromEnvironment(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		target string
		want   string // "" for no proxy
	}{
		{"wss uses HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://s:1", "HTTP_PROXY": "http://p:1"}, "wss://example.com/", "http://s:1"},
		{"ws uses HTTP_PROXY", map[string]string{"HTTPS_PROXY": "http://s:1", "HTTP_PROXY": "http://p:1"}, "ws://example.com/", "http://p:1"},
		{"wss without HTTPS_PROXY", map[string]string{"HTTP_PROXY": "http://p:1"}, "wss://example.com/", ""},
		{"lower case", map[string]string{"https_proxy": "http://lower:1"}, "wss://example.com/", "http://lower:1"},
		{"upper case wins", map[string]string{"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"}, "wss://example.com/", "http://upper:1"},
		{"no scheme means http", map[string]string{"HTTPS_PROXY": "proxy.corp:3128"}, "wss://example.com/", "http://proxy.corp:3128"},
		{"socks5 value", map[string]string{"HTTPS_PROXY": "socks5h://u:p@s:1080"}, "wss://example.com/", "socks5h://u:p@s:1080"},
		{"NO_PROXY match", map[string]string{"HTTPS_PROXY": "http://s:1", "NO_PROXY": "internal,example.com"}, "wss://api.example.com/", ""},
		{"no_proxy match", map[string]string{"HTTPS_PROXY": "http://s:1", "no_proxy": "example.com"}, "wss://example.com/", ""},
		{"NO_PROXY port uses the default", map[string]string{"HTTPS_PROXY": "http://s:1", "NO_PROXY": "example.com:443"}, "wss://example.com/", ""},
		{"NO_PROXY other port", map[string]string{"HTTPS_PROXY": "http://s:1", "NO_PROXY": "example.com:80"}, "wss://example.com/", "http://s:1"},
		{"localhost", map[string]string{"HTTP_PROXY": "http://p:1"}, "ws://localhost:8080/", ""},
		{"loopback with a zone", map[string]string{"HTTP_PROXY": "http://p:1"}, "ws://[::1%25lo]:8080/", ""},
		{"NO_PROXY domain is not an address suffix", map[string]string{"HTTP_PROXY": "http://p:1", "NO_PROXY": "0.1"}, "ws://10.0.0.1/", "http://p:1"},
		{"wss_proxy before HTTPS_PROXY", map[string]string{"wss_proxy": "http://w:1", "HTTPS_PROXY": "http://s:1"}, "wss://example.com/", "http://w:1"},
		{"ws_proxy before HTTP_PROXY", map[string]string{"ws_proxy": "socks5://w:1080", "HTTP_PROXY": "http://p:1"}, "ws://example.com/", "socks5://w:1080"},
		{"ws_proxy is not for wss", map[string]string{"WS_PROXY": "http://w:1"}, "wss://example.com/", ""},
		{"NO_PROXY applies to WSS_PROXY", map[string]string{"WSS_PROXY": "http://w:1", "NO_PROXY": "example.com"}, "wss://example.com/", ""},
		{"CGI allows WS_PROXY", map[string]string{"WS_PROXY": "http://w:1", "REQUEST_METHOD": "GET"}, "ws://example.com/", "http://w:1"},
		{"CGI without HTTP_PROXY", map[string]string{"REQUEST_METHOD": "GET"}, "ws://example.com/", ""},
		{"CGI ignores HTTPS_PROXY rule", map[string]string{"HTTPS_PROXY": "http://s:1", "REQUEST_METHOD": "GET"}, "wss://example.com/", "http://s:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := FromEnvironment(mustURL(t, tt.target))
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == "") || got != nil && got.String() != tt.want {
				t.Fatalf("FromEnvironment(%s) = %v, want %q", tt.target, got, tt.want)
			}
		})
	}
}

// TestFromEnvironmentRereads checks that, unlike http.ProxyFromEnvironment,
// a change to the environment is seen by the next call.
func TestFromEnvironmentRereads(t *testing.T) {
	clearEnv(t)
	target := mustURL(t, "wss://example.com")
	t.Setenv("HTTPS_PROXY", "http://first:1")
	if u, _ := FromEnvironment(target); u == nil || u.Host != "first:1" {
		t.Fatalf("first call: %v", u)
	}
	t.Setenv("HTTPS_PROXY", "http://second:1")
	if u, _ := FromEnvironment(target); u == nil || u.Host != "second:1" {
		t.Fatalf("second call: %v", u)
	}
}

func TestFromEnvironmentErrors(t *testing.T) {
	clearEnv(t)
	t.Setenv("HTTP_PROXY", "http://p:1")
	t.Setenv("REQUEST_METHOD", "GET")
	if _, err := FromEnvironment(mustURL(t, "ws://example.com")); err == nil || !strings.Contains(err.Error(), "CGI") {
		t.Fatalf("HTTP_PROXY under CGI: error = %v", err)
	}
	clearEnv(t)
	t.Setenv("HTTPS_PROXY", "http://proxy\x7f:1")
	if _, err := FromEnvironment(mustURL(t, "wss://example.com")); err == nil || !strings.Contains(err.Error(), "invalid proxy address") {
		t.Fatalf("bad HTTPS_PROXY: error = %v", err)
	}
}

// TestEnvironmentDial checks the whole path: a Dialer using
// FromEnvironment reaches the target through the proxy named in
// HTTPS_PROXY. The target is given by name, since loopback addresses
// always bypass the proxy.
func TestEnvironmentDial(t *testing.T) {
	clearEnv(t)
	target := echoServer(t, nil, "hi")
	_, port, _ := net.SplitHostPort(target)
	p := &connectProxy{}
	t.Setenv("HTTPS_PROXY", startConnectProxy(t, p, nil))
	d := &Dialer{Proxy: FromEnvironment}
	named := "target.test:" + port
	// The proxy resolves target.test to the echo server.
	p.resolve = map[string]string{named: target}
	c, err := d.DialContext(testCtx(t), &url.URL{Scheme: "wss", Host: named})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hi")
	if req := <-p.seen; req.Host != named {
		t.Fatalf("proxy was asked for %s", req.Host)
	}
}

// TestFromEnvironmentAgreesWithNetHTTP compares FromEnvironment with
// http.ProxyFromEnvironment for many targets under one environment. (The
// latter reads the environment once per process; no other test calls it.)
func TestFromEnvironmentAgreesWithNetHTTP(t *testing.T) {
	clearEnv(t)
	t.Setenv("HTTPS_PROXY", "http://secure.proxy:3128")
	t.Setenv("HTTP_PROXY", "plain.proxy:8080")
	t.Setenv("NO_PROXY", "example.com, .dot.org,*.star.net,port.io:8443,10.0.0.0/8,192.168.1.1,[2001:db8::1]:443,2001:db9::/32,:99,,Upper.COM,1.2.3,fe80::1")
	hosts := []string{
		"example.com", "a.example.com", "notexample.com", "dot.org", "x.dot.org", "star.net", "x.star.net",
		"port.io", "a.port.io", "10.1.2.3", "11.1.2.3", "192.168.1.1", "192.168.1.2", "[2001:db8::1]",
		"[2001:db9::7]", "[2001:dba::1]", "localhost", "127.0.0.1", "[::1]", "upper.com", "other.net",
		"[::1%25lo]", "[fe80::1%25eth0]",
	}
	for _, scheme := range []string{"http", "https"} {
		for _, host := range hosts {
			for _, port := range []string{"", ":80", ":443", ":8443", ":99"} {
				target := &url.URL{Scheme: scheme, Host: host + port}
				want, werr := http.ProxyFromEnvironment(&http.Request{URL: target})
				got, gerr := FromEnvironment(target)
				if (werr == nil) != (gerr == nil) || fmt.Sprint(want) != fmt.Sprint(got) {
					t.Errorf("%s: FromEnvironment = %v, %v; net/http says %v, %v", target, got, gerr, want, werr)
				}
			}
		}
	}
}

// FuzzNoProxy checks noProxy's rules on any NO_PROXY value and address:
// loopback is always direct, an entry "*" or naming the host matches, and
// adding entries never takes a match away.
func FuzzNoProxy(f *testing.F) {
	f.Add("example.com, .dot.org,*.star.net,port.io:8443", "a.dot.org:443", "10.0.0.0/8")
	f.Add("[2001:db8::1]:443,2001:db9::/32", "[2001:db8::1]:443", ":99")
	f.Add(",,", "localhost:80", "*")
	f.Fuzz(func(t *testing.T, value, addr, extra string) {
		got := noProxy(value, addr)
		for _, v := range []string{value + "," + extra, extra + "," + value} {
			if got && !noProxy(v, addr) {
				t.Fatalf("noProxy(%q, %q) matches, but not with %q added", value, addr, extra)
			}
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return
		}
		if !noProxy(value+",*", addr) {
			t.Fatalf("noProxy(%q, %q) with * added does not match", value, addr)
		}
		ip := net.ParseIP(host)
		if host == "localhost" || ip != nil && ip.IsLoopback() {
			if !got {
				t.Fatalf("noProxy(%q, %q) = false for a loopback address", value, addr)
			}
		}
		// Ports are numbers in the addresses FromEnvironment passes.
		if host != "" && strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789.-") == "" &&
			strings.Trim(port, "0123456789") == "" {
			for _, entry := range []string{host, strings.ToUpper(host), host + ":" + port} {
				if !noProxy(entry, addr) {
					t.Fatalf("noProxy(%q, %q) = false for an entry naming the host", entry, addr)
				}
			}
		}
	})
}

// TestFromEnvironmentHidesPassword checks that a proxy variable too
// malformed to parse, typically for a '%' or '/' left unencoded in the
// password, is refused without showing the password: the error ends up in
// logs, like those of ProxyError, whose URL is redacted.
func TestFromEnvironmentHidesPassword(t *testing.T) {
	for _, v := range []string{
		"http://bob:50%off@proxy.corp:3128",
		"bob:50%off@proxy.corp:3128",
		"socks5://bob:50%off@proxy.corp:1080",
		"http://bob:50%off\x7f@proxy.corp:3128",
	} {
		clearEnv(t)
		t.Setenv("HTTPS_PROXY", v)
		_, err := FromEnvironment(mustURL(t, "wss://example.com"))
		if err == nil || strings.Contains(err.Error(), "50%") || strings.Contains(err.Error(), "off") ||
			!strings.Contains(err.Error(), "invalid proxy address") || !strings.Contains(err.Error(), "proxy.corp") {
			t.Errorf("HTTPS_PROXY=%q: error = %v, want one naming the proxy but not the password", v, err)
		}
	}
}
