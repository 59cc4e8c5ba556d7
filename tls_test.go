package starling_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// newTLSEchoServer starts a wss echo server with httptest's self-signed
// certificate.
func newTLSEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(echoHandler(nil))
	t.Cleanup(srv.Close)
	return srv
}

func echoOnce(t *testing.T, c *starling.Conn) {
	t.Helper()
	ctx := context.Background()
	if err := c.Write(ctx, starling.MessageText, []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "over tls" {
		t.Fatalf("echo = %q, %v", p, err)
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDialTLS(t *testing.T) {
	checkGoroutines(t)
	srv := newTLSEchoServer(t)
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	pin := starling.PinOf(srv.Certificate())
	other := strings.Repeat("A", 43) + "="

	tests := []struct {
		name     string
		opts     starling.DialOptions
		mismatch bool // want ErrPinMismatch
		fail     bool // want another TLS failure
	}{
		{name: "verified with caller's roots", opts: starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}}},
		{name: "unknown authority refused", opts: starling.DialOptions{}, fail: true},
		{name: "pin matches", opts: starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}, Pins: []string{other, pin}}},
		{name: "pin mismatch", opts: starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}, Pins: []string{other}}, mismatch: true},
		{name: "self-signed, pin only", opts: starling.DialOptions{Pins: []string{pin}, PinOnly: true}},
		{name: "self-signed, pin only, mismatch", opts: starling.DialOptions{Pins: []string{other}, PinOnly: true}, mismatch: true},
		{name: "self-signed, pinned but verified normally", opts: starling.DialOptions{Pins: []string{pin}}, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := starling.Dial(context.Background(), url, &tt.opts)
			switch {
			case tt.mismatch:
				if !errors.Is(err, starling.ErrPinMismatch) || !strings.Contains(err.Error(), pin) {
					t.Fatalf("err = %v, want ErrPinMismatch naming the seen digest %s", err, pin)
				}
			case tt.fail:
				if err == nil || errors.Is(err, starling.ErrPinMismatch) {
					t.Fatalf("err = %v, want a certificate verification failure", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				echoOnce(t, c)
			}
		})
	}
}

func TestDialRejectsMalformedPin(t *testing.T) {
	_, _, err := starling.Dial(context.Background(), "wss://127.0.0.1:1/", &starling.DialOptions{Pins: []string{"not-a-pin"}})
	if err == nil || !strings.Contains(err.Error(), "not-a-pin") {
		t.Fatalf("err = %v, want one naming the malformed pin", err)
	}
}

// TestReadContextEndsOverTLS checks that a read whose context ends while
// it waits leaves a wss connection usable: a TLS connection's reads, unlike
// its writes, survive a deadline that cuts one short.
func TestReadContextEndsOverTLS(t *testing.T) {
	checkGoroutines(t)
	srv := newTLSEchoServer(t)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, _, err := starling.Dial(context.Background(), "wss"+strings.TrimPrefix(srv.URL, "https"),
		&starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read = %v, want context.DeadlineExceeded in the chain", err)
	}
	echoOnce(t, c)
}

// TestDialTLSOffersHTTP1Only checks that a wss:// dial offers only
// http/1.1 in ALPN, even with a TLSConfig that lists h2, as one shared
// with an http.Transport does: a server that picked h2 would read the
// HTTP/1.1 handshake as a broken HTTP/2 preface.
func TestDialTLSOffersHTTP1Only(t *testing.T) {
	srv := httptest.NewUnstartedServer(echoHandler(nil))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, _, err := starling.Dial(context.Background(), "wss"+strings.TrimPrefix(srv.URL, "https"), &starling.DialOptions{
		TLSConfig: &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c)
}

// TestDialTLSServerName checks that a TLSConfig.ServerName is the name the
// server's certificate is checked against (and sent in SNI), not the URL's
// host: a caller may reach a server by another name than its certificate's.
func TestDialTLSServerName(t *testing.T) {
	srv := newTLSEchoServer(t)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// httptest's certificate is for example.com and the loopback
	// addresses, not for localhost.
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "wss://localhost:" + port
	if _, _, err := starling.Dial(context.Background(), url, &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}}); err == nil {
		t.Fatal("dial to localhost verified a certificate not issued for it")
	}
	c, _, err := starling.Dial(context.Background(), url, &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c)
}
