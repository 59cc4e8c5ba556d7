package starling_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/testpki"
)

// clearProxyEnv unsets, for the test, every variable ProxyFromEnvironment
// reads.
func clearProxyEnv(t *testing.T) {
	for _, k := range []string{"WSS_PROXY", "WS_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
		t.Setenv(strings.ToLower(k), "")
	}
}

// TestDialProxyEnvironmentPrecedence dials, with the default Proxy, by
// name (loopback addresses always bypass the proxy) through whichever
// proxy the environment names, and checks which one was asked.
func TestDialProxyEnvironmentPrecedence(t *testing.T) {
	k := testpki.New(t)
	wss := startWSS(t, testpki.Chain(k.Leaf, k.Inter))
	ws := newEchoServerAddr(t)
	fleet := startProxyFleet(t, "", "")
	named := map[string]string{"wss": "env.test:" + portOf(t, wss), "ws": "env.test:" + portOf(t, ws)}
	for _, p := range fleet.proxies {
		p.resolve = map[string]string{named["wss"]: wss, named["ws"]: ws}
	}
	url := func(scheme string) string { return fleet.urls[scheme].String() }
	for _, tt := range []struct {
		name   string
		env    map[string]string
		target string // ws or wss
		want   string // the proxy's scheme
	}{
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": url("https"), "HTTP_PROXY": url("socks5")}, "wss", "https"},
		{"https_proxy", map[string]string{"https_proxy": url("socks5h")}, "wss", "socks5h"},
		{"upper case first", map[string]string{"HTTPS_PROXY": url("http"), "https_proxy": url("socks5")}, "wss", "http"},
		{"WSS_PROXY first", map[string]string{"WSS_PROXY": url("socks5"), "HTTPS_PROXY": url("http")}, "wss", "socks5"},
		{"wss_proxy first", map[string]string{"wss_proxy": url("https"), "HTTPS_PROXY": url("http")}, "wss", "https"},
		{"HTTP_PROXY", map[string]string{"HTTP_PROXY": url("socks5h"), "HTTPS_PROXY": url("http")}, "ws", "socks5h"},
		{"WS_PROXY first", map[string]string{"WS_PROXY": url("http"), "http_proxy": url("socks5")}, "ws", "http"},
		{"WS_PROXY under CGI", map[string]string{"WS_PROXY": url("http"), "REQUEST_METHOD": "GET"}, "ws", "http"},
		{"HTTPS_PROXY under CGI", map[string]string{"HTTPS_PROXY": url("socks5"), "REQUEST_METHOD": "GET"}, "wss", "socks5"},
		{"NO_PROXY elsewhere", map[string]string{"HTTPS_PROXY": url("http"), "NO_PROXY": "test.env,.other.test,env.test:1"}, "wss", "http"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearProxyEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			p := fleet.proxies[tt.want]
			before, _, _ := p.relayed()
			err := dialVia(t, tt.target+"://"+named[tt.target]+"/", starling.DialOptions{
				ProxyTLSConfig: &tls.Config{RootCAs: fleet.roots},
				// The certificate does not name env.test: pin its key.
				Pins:    []string{starling.PinOf(k.Leaf.Cert)},
				PinOnly: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if asked, _, _ := p.relayed(); len(asked) != len(before)+1 {
				t.Fatalf("the %s proxy was not asked", tt.want)
			}
		})
	}
}

// TestDialProxyEnvironmentCGI checks that, as in net/http, a CGI program
// does not use HTTP_PROXY, which the client sets through a Proxy header
// ("httpoxy"), and says why.
func TestDialProxyEnvironmentCGI(t *testing.T) {
	clearProxyEnv(t)
	t.Setenv("HTTP_PROXY", "http://attacker.test:8080")
	t.Setenv("REQUEST_METHOD", "POST")
	err := dialVia(t, "ws://env.test/", starling.DialOptions{})
	if err == nil || !strings.Contains(err.Error(), "CGI") || !strings.Contains(err.Error(), "HTTP_PROXY") {
		t.Fatalf("err = %v, want a refusal of HTTP_PROXY under CGI", err)
	}
}

// TestDialProxyEnvironmentHidesPassword dials with a proxy variable whose
// password has a '%' left unencoded: the dial fails, naming the proxy but
// not the password.
func TestDialProxyEnvironmentHidesPassword(t *testing.T) {
	clearProxyEnv(t)
	t.Setenv("WSS_PROXY", "http://bob:50%off@proxy.corp:3128")
	err := dialVia(t, "wss://env.test/", starling.DialOptions{})
	if err == nil || strings.Contains(err.Error(), "50%off") || !strings.Contains(err.Error(), "proxy.corp:3128") {
		t.Fatalf("err = %v, want one naming the proxy but not the password", err)
	}
}
