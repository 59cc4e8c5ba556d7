package matrix

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/peer"
)

type direction int

const (
	starlingServer direction = iota // the peer's client dials Starling's server
	starlingClient                  // Starling's client dials the peer's server
)

// env is what a cell needs: the peer, its caps, and the direction.
type env struct {
	peer peer.Peer
	caps Caps
	dir  direction
	srv  *server     // StarlingServer direction only
	tls  *tls.Config // StarlingClient direction only: for a wss peer
}

// side is Starling's end of one connection to the peer.
type side struct {
	conn   *starling.Conn
	id     string
	header http.Header // the handshake request, StarlingServer direction only
	pings  chan []byte // payloads of pings received (OnPing)
	pongs  chan []byte // payloads of pongs received (OnPong)
	wire   *wire       // bytes on the network
	// extensions is the Sec-WebSocket-Extensions of the server's answer,
	// StarlingClient direction only.
	extensions string
}

func newSide(id string) *side {
	return &side{id: id, pings: make(chan []byte, 16), pongs: make(chan []byte, 16), wire: new(wire)}
}

func (s *side) onPing(p []byte) { s.pings <- append([]byte(nil), p...) }
func (s *side) onPong(p []byte) { s.pongs <- append([]byte(nil), p...) }

var lastID atomic.Int64

// open makes an uncompressed connection in e's direction with the peer in
// the given mode.
func (e *env) open(t *testing.T, ctx context.Context, mode string) *side {
	t.Helper()
	return e.openWith(t, ctx, mode, starling.CompressionOptions{})
}

// openWith is open with Starling's compression options.
func (e *env) openWith(t *testing.T, ctx context.Context, mode string, comp starling.CompressionOptions) *side {
	t.Helper()
	return e.openQuery(t, ctx, mode, comp, "")
}

// openQuery is openWith with query added to the URL the client dials,
// which the peer reads in either role (see peer.DeflateParam).
func (e *env) openQuery(t *testing.T, ctx context.Context, mode string, comp starling.CompressionOptions, query string) *side {
	t.Helper()
	id := fmt.Sprintf("c%d", lastID.Add(1))
	path := "/" + mode + "?id=" + id
	if query != "" {
		path += "&" + query
	}
	var s *side
	var err error
	if e.dir == starlingServer {
		s, err = e.srv.expect(ctx, e.peer, path, mode, id, comp)
	} else {
		s, err = dial(ctx, e.peer.ServerURL()+path, id, comp, e.tls)
	}
	if err != nil {
		t.Fatalf("open %s connection %s: %v", mode, id, err)
	}
	return s
}

func dial(ctx context.Context, url, id string, comp starling.CompressionOptions, tc *tls.Config) (*side, error) {
	s := newSide(id)
	c, resp, err := starling.Dial(ctx, url, &starling.DialOptions{
		Subprotocols:   peer.Offered,
		HTTPHeader:     http.Header{peer.HeaderName: {id}},
		ReadLimit:      peer.ReadLimit,
		OnPing:         s.onPing,
		OnPong:         s.onPong,
		Compression:    comp,
		NetDialContext: countingDial(s.wire),
		TLSConfig:      tc,
	})
	if err != nil {
		return nil, err
	}
	s.conn = c
	s.extensions = resp.Header.Get("Sec-WebSocket-Extensions")
	return s, nil
}

// server is Starling's server for the StarlingServer direction. It hands
// each accepted connection to the cell waiting for its id.
type server struct {
	srv     *httptest.Server
	mu      sync.Mutex
	waiting map[string]waiter
}

type waiter struct {
	ch   chan accepted
	comp starling.CompressionOptions
}

type accepted struct {
	side *side
	err  error
}

func newServer(opts Options) *server {
	s := &server{waiting: make(map[string]waiter)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP(opts.Page)))
	s.srv.Listener = countingListener{s.srv.Listener}
	s.srv.Config.ConnContext = withWire
	if opts.TLS != nil {
		s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*opts.TLS}}
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	return s
}

func (s *server) serveHTTP(page http.Handler) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			if page == nil {
				http.NotFound(w, r)
				return
			}
			page.ServeHTTP(w, r)
			return
		}
		id := r.URL.Query().Get("id")
		s.mu.Lock()
		wt, ok := s.waiting[id]
		delete(s.waiting, id)
		s.mu.Unlock()
		if !ok {
			http.Error(w, "no cell waits for id "+id, http.StatusNotFound)
			return
		}
		sd := newSide(id)
		sd.header = r.Header.Clone()
		sd.wire = wireOf(r.Context())
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			Subprotocols: []string{peer.Subprotocol},
			ReadLimit:    peer.ReadLimit,
			OnPing:       sd.onPing,
			OnPong:       sd.onPong,
			Compression:  wt.comp,
		})
		sd.conn = c
		wt.ch <- accepted{sd, err}
	}
}

// expect asks p's client to dial the server at path in mode and returns
// Starling's side of the connection.
func (s *server) expect(ctx context.Context, p peer.Peer, path, mode, id string, comp starling.CompressionOptions) (*side, error) {
	ch := make(chan accepted, 1)
	s.mu.Lock()
	s.waiting[id] = waiter{ch, comp}
	s.mu.Unlock()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + path
	if err := p.Connect(ctx, url, mode, id); err != nil {
		return nil, err
	}
	// A failure the peer reports ends the wait early.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan string, 1)
	go func() {
		if e, err := p.Wait(wctx, id, peer.EventError); err == nil {
			failed <- e.Reason
		}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, fmt.Errorf("Accept: %w", a.err)
		}
		return a.side, nil
	case reason := <-failed:
		return nil, fmt.Errorf("peer failed to connect: %s", reason)
	case <-ctx.Done():
		return nil, fmt.Errorf("no connection from the peer: %w", ctx.Err())
	}
}

func (s *server) close() { s.srv.Close() }
