package browser_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/starling-ws/starling/interop/internal/browser"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// startBrowser starts a browser trusting cas, skipping outside CI when
// Chromium is not installed and failing in CI (CI=true).
func startBrowser(t *testing.T, cas ...[]byte) *browser.Browser {
	t.Helper()
	b, err := browser.Start(browser.Options{TrustedCAs: cas, Logf: t.Logf})
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("chromium not installed (set CI=true to make this fail): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// tlsServer serves a page over HTTPS with a certificate from ca.
func tlsServer(t *testing.T, ca *testca.CA) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>served over TLS</title>`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestTrustedCA: a page whose certificate chains to a CA given in Options
// loads, and script on it runs and calls back into Go.
func TestTrustedCA(t *testing.T) {
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := tlsServer(t, ca)
	b := startBrowser(t, ca.PEM)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := make(chan string, 1)
	if err := p.Expose(ctx, "report", func(s string) { got <- s }); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, srv.URL); err != nil {
		t.Fatalf("Navigate to a server with a trusted CA: %v\n%s", err, b.Output())
	}
	var title string
	if err := p.Eval(ctx, `window.report(location.protocol + " " + document.title), document.title`, &title); err != nil {
		t.Fatal(err)
	}
	if title != "served over TLS" {
		t.Errorf("title %q", title)
	}
	select {
	case s := <-got:
		if s != "https: served over TLS" {
			t.Errorf("page reported %q", s)
		}
	case <-ctx.Done():
		t.Fatal("the exposed function was not called")
	}
}

// TestUntrustedCA: without the CA, the same page does not load, which
// shows that certificate errors are not being ignored.
func TestUntrustedCA(t *testing.T) {
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := tlsServer(t, ca)
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Navigate(ctx, srv.URL); err == nil {
		t.Fatal("a page with a certificate from an untrusted CA loaded")
	} else {
		t.Logf("refused as expected: %v", err)
	}
}
