package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/browser"
	"github.com/starling-ws/starling/interop/internal/matrix"
)

// TestCrossSiteHijackingRefused is a cross-site WebSocket hijacking attempt
// in a real browser: a page from another origin opens a WebSocket to a
// Starling server with default options. The browser sends its Origin;
// Accept refuses it with 403 (RFC 6455 section 10.2), so the page never
// gets a connection, while a page of the server's own origin does.
func TestCrossSiteHijackingRefused(t *testing.T) {
	refused := make(chan error, 4)
	victim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>victim</title>`)
			return
		}
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			refused <- err
			return
		}
		c.Write(context.Background(), starling.MessageText, []byte("your secrets"))
		c.Close(starling.StatusNormalClosure, "")
	}))
	defer victim.Close()
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>attacker</title>`)
	}))
	defer attacker.Close()

	br, err := browser.Start(browser.Options{Logf: t.Logf})
	matrix.Require(t, err)
	defer br.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(victim.URL, "http") + "/ws"
	open := fmt.Sprintf(`new Promise(resolve => {
		const ws = new WebSocket(%q);
		ws.onmessage = e => resolve("message: " + e.data);
		ws.onclose = e => resolve("closed " + e.code);
	})`, wsURL)

	for _, tt := range []struct {
		page, want string
		refused    bool
	}{
		{attacker.URL, "closed 1006", true},          // the handshake failed: no connection at all
		{victim.URL, "message: your secrets", false}, // same origin
	} {
		p, err := br.NewPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Navigate(ctx, tt.page); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := p.Eval(ctx, open, &got); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if got != tt.want {
			t.Fatalf("page from %s: %q, want %q", tt.page, got, tt.want)
		}
		if tt.refused {
			select {
			case err := <-refused:
				if !errors.Is(err, starling.ErrBadHandshake) || !strings.Contains(err.Error(), "origin not allowed: "+attacker.URL) {
					t.Fatalf("Accept: %v, want the origin refusal", err)
				}
			case <-ctx.Done():
				t.Fatal("the server never saw the cross-site handshake")
			}
		}
	}
}
