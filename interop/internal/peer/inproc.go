package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// ReadLimit is the message size limit every peer is configured with, above
// the 16 MiB the largest cell sends.
const ReadLimit = 64 << 20

// inproc is the part shared by the peers that are Go libraries: an
// httptest server that routes by mode, an event hub, and a wait group for
// the connection goroutines.
type inproc struct {
	name string
	tls  *TLS
	srv  *httptest.Server
	hub  Hub
	wg   sync.WaitGroup
}

// TLS makes a Go peer speak wss: its server has the certificate Server,
// and its client trusts Roots.
type TLS struct {
	Server tls.Certificate
	Roots  *x509.CertPool
}

// clientConfig returns the TLS configuration of p's client, or nil.
func (p *inproc) clientConfig() *tls.Config {
	if p.tls == nil {
		return nil
	}
	return &tls.Config{RootCAs: p.tls.Roots}
}

// start serves upgrade, over TLS if p.tls is set, called with the mode taken from the request path
// and the id from its query.
func (p *inproc) start(upgrade func(w http.ResponseWriter, r *http.Request, mode, id string)) {
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.wg.Add(1)
		defer p.wg.Done()
		upgrade(w, r, strings.TrimPrefix(r.URL.Path, "/"), r.URL.Query().Get("id"))
	}))
	if p.tls == nil {
		p.srv.Start()
		return
	}
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.tls.Server}}
	p.srv.StartTLS()
}

// goConnect runs dial in a goroutine tracked by p.wg, reporting a failure
// as an EventError.
func (p *inproc) goConnect(id string, dial func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := dial(); err != nil {
			p.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
		}
	}()
}

func (p *inproc) Name() string      { return p.name }
func (p *inproc) ServerURL() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") }

func (p *inproc) Wait(ctx context.Context, id, kind string) (Event, error) {
	return p.hub.Wait(ctx, id, kind)
}

// Close stops the server and waits for every connection goroutine; the
// cells close their connections, so this does not hang.
func (p *inproc) Close() error {
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.wg.Wait()
	return nil
}
