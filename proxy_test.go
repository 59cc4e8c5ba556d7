package starling_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/starling-ws/starling"
)

// connectProxy is an HTTP CONNECT proxy built on net/http, which requires
// the credentials user:secret and counts the tunnels it opened.
type connectProxy struct{ tunnels atomic.Int32 }

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if user, pass, ok := (&http.Request{Header: http.Header{"Authorization": r.Header["Proxy-Authorization"]}}).BasicAuth(); !ok || user != "user" || pass != "secret" {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "who are you?", http.StatusProxyAuthRequired)
		return
	}
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	p.tunnels.Add(1)
	go func() {
		io.Copy(upstream, brw)
		upstream.Close()
	}()
	io.Copy(client, upstream)
	client.Close()
}

func TestDialThroughConnectProxy(t *testing.T) {
	plain := httptest.NewServer(echoHandler(nil))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(echoHandler(nil))
	t.Cleanup(secure.Close)
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())

	var p connectProxy
	proxySrv := httptest.NewServer(&p)
	t.Cleanup(proxySrv.Close)
	proxyURL, _ := url.Parse(proxySrv.URL)
	proxyURL.User = url.UserPassword("user", "secret")

	for _, target := range []string{wsURL(plain), "wss" + strings.TrimPrefix(secure.URL, "https")} {
		before := p.tunnels.Load()
		c, _, err := starling.Dial(context.Background(), target, &starling.DialOptions{
			Proxy:     starling.ProxyURL(proxyURL),
			TLSConfig: &tls.Config{RootCAs: roots},
		})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		echoOnce(t, c)
		if p.tunnels.Load() != before+1 {
			t.Fatalf("%s: the dial did not go through the proxy", target)
		}
	}

	// Wrong credentials: the error carries the proxy's status line.
	proxyURL.User = url.UserPassword("user", "wrong")
	_, _, err := starling.Dial(context.Background(), wsURL(plain), &starling.DialOptions{Proxy: starling.ProxyURL(proxyURL)})
	var pe *starling.ProxyError
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusProxyAuthRequired || !strings.Contains(err.Error(), "407 Proxy Authentication Required") {
		t.Fatalf("dial with wrong proxy credentials: %v", err)
	}
}

func TestDialProxyFromEnvironment(t *testing.T) {
	var p connectProxy
	proxySrv := httptest.NewServer(&p)
	t.Cleanup(proxySrv.Close)
	t.Setenv("HTTP_PROXY", "http://user:secret@"+strings.TrimPrefix(proxySrv.URL, "http://"))
	t.Setenv("NO_PROXY", "")
	// Loopback targets bypass the proxy, as in net/http, so ask for
	// another host.
	target := &url.URL{Scheme: "ws", Host: "starling.test:80"}
	u, err := starling.ProxyFromEnvironment(target)
	if err != nil || u == nil || u.Host != strings.TrimPrefix(proxySrv.URL, "http://") {
		t.Fatalf("ProxyFromEnvironment(ws) = %v, %v; want the HTTP_PROXY", u, err)
	}
	if u, _ := starling.ProxyFromEnvironment(&url.URL{Scheme: "wss", Host: "starling.test"}); u != nil {
		t.Fatalf("wss used HTTP_PROXY %v; it should use HTTPS_PROXY, which is unset", u)
	}
	t.Setenv("NO_PROXY", "starling.test")
	if u, _ := starling.ProxyFromEnvironment(target); u != nil {
		t.Fatalf("NO_PROXY ignored: %v", u)
	}
	if u, _ := starling.NoProxy(target); u != nil {
		t.Fatalf("NoProxy returned %v", u)
	}
}
