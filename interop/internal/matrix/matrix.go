// Package matrix holds the Starling side of every interop cell, written
// once against peer.Peer and run for each peer in both directions.
package matrix

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"github.com/starling-ws/starling/interop/internal/peer"
)

// Caps says which cells a peer can take part in; a cell a peer cannot
// play is left out of the matrix (and marked n/a in README.md), never
// skipped at run time.
type Caps struct {
	Server         bool // the peer can be a server (Starling dials it)
	Client         bool // the peer can be a client (Starling accepts it)
	SendsFragments bool // the peer can send a message as several frames
	SendsPings     bool // the peer can send a ping
	PingPayload    bool // the peer chooses its ping payload (peer.PingPayload)
	DropsTCP       bool // the peer can drop the TCP connection without a close frame
	CustomHeader   bool // the peer's client can send peer.HeaderName
	Cookie         bool // the peer's client sends the cookie its page set (browsers)
	// Deflate: the peer supports permessage-deflate (RFC 7692).
	Deflate bool
	// DeflateNoTakeoverOnly: the peer agrees to permessage-deflate only
	// with no context takeover for both sides (gorilla).
	DeflateNoTakeoverOnly bool
}

// Options configures the Starling server of the StarlingServer direction.
type Options struct {
	// Page, if set, serves requests to the Starling server that are not
	// WebSocket handshakes, such as a browser peer's page.
	Page http.Handler
	// TLS, if set, makes the server serve wss with this certificate.
	TLS *tls.Certificate
	// ClientTLS configures Starling's client in the StarlingClient
	// direction, for a peer whose server speaks wss.
	ClientTLS *tls.Config
}

// Run runs every cell caps allows, as subtests "starling-server" (peer
// client dials Starling) and "starling-client" (Starling dials the peer).
func Run(t *testing.T, p peer.Peer, caps Caps, opts Options) {
	if caps.Client {
		t.Run("starling-server", func(t *testing.T) {
			srv := newServer(opts)
			defer srv.close()
			runCells(t, &env{peer: p, caps: caps, dir: starlingServer, srv: srv})
		})
	}
	if caps.Server {
		t.Run("starling-client", func(t *testing.T) {
			runCells(t, &env{peer: p, caps: caps, dir: starlingClient, tls: opts.ClientTLS})
		})
	}
}

// Require fails the test if err says a peer could not be started and CI
// is set (CI=true), so that a missing peer never passes CI; outside CI it
// skips with the reason. Any other error fails the test.
func Require(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	missing := errors.Is(err, peer.ErrUnavailable) || errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
	if !missing {
		t.Fatalf("peer failed to start: %v", err)
	}
	if os.Getenv("CI") == "" {
		t.Skipf("peer unavailable outside CI (set CI=true to make this fail): %v", err)
	}
	t.Fatalf("peer unavailable: %v", err)
}
