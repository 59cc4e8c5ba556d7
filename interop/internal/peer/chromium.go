package peer

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/starling-ws/starling/interop/internal/browser"
)

// PagePath is where a server under test must serve Chromium.PageHandler:
// the page has to come from the server's own origin, so the handshake is
// same-origin and carries the page's cookie.
const PagePath = "/peer.html"

//go:embed chromium.html
var chromiumPage []byte

// Chromium is a headless Chromium's WebSocket as a peer. It is a client
// only, and plays echo, close and the ends of Starling's own actions; the
// page reports events through window.peerEvent.
type Chromium struct {
	b    *browser.Browser
	page *browser.Page
	hub  Hub

	mu     sync.Mutex
	origin string // the origin the page is loaded from
}

// NewChromium starts a browser that trusts the PEM CAs and opens its page tab.
func NewChromium(ctx context.Context, cas [][]byte, logf func(string, ...any)) (*Chromium, error) {
	b, err := browser.Start(browser.Options{TrustedCAs: cas, Logf: logf})
	if err != nil {
		return nil, err
	}
	c := &Chromium{b: b}
	if c.page, err = b.NewPage(ctx); err == nil {
		err = c.page.Expose(ctx, "peerEvent", c.post)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return c, nil
}

func (c *Chromium) post(line string) {
	var e Event
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		e = Event{Kind: EventError, Reason: "bad event: " + line}
	}
	c.hub.Post(e)
}

// PageHandler serves the peer page at PagePath.
func (c *Chromium) PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PagePath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(chromiumPage)
	})
}

// Name implements Peer.
func (c *Chromium) Name() string { return "chromium" }

// ServerURL implements Peer: a browser is no server.
func (c *Chromium) ServerURL() string { return "" }

// Connect implements Peer. It loads the page from wsURL's origin first,
// if it is not there yet.
func (c *Chromium) Connect(ctx context.Context, wsURL, mode, id string) error {
	u, err := url.Parse(wsURL)
	if err != nil {
		return err
	}
	origin := "http" + strings.TrimPrefix(u.Scheme, "ws") + "://" + u.Host
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.origin != origin {
		if err := c.page.Navigate(ctx, origin+PagePath); err != nil {
			return fmt.Errorf("loading the peer page: %w", err)
		}
		c.origin = origin
	}
	args, err := json.Marshal([]string{wsURL, mode, id})
	if err != nil {
		return err
	}
	expr := "connect(..." + string(args) + ")"
	return c.page.Eval(ctx, expr, nil)
}

// Wait implements Peer.
func (c *Chromium) Wait(ctx context.Context, id, kind string) (Event, error) {
	return c.hub.Wait(ctx, id, kind)
}

// Close implements Peer.
func (c *Chromium) Close() error {
	c.page.Close()
	return c.b.Close()
}
