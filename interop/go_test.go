package interop_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// goCaps: both Go libraries play every cell.
var goCaps = matrix.Caps{
	Server: true, Client: true,
	SendsFragments: true, SendsPings: true, DropsTCP: true, CustomHeader: true, Deflate: true,
}

func TestGorilla(t *testing.T) {
	caps := goCaps
	caps.PingPayload = true
	caps.DeflateNoTakeoverOnly = true
	runGoPeer(t, caps, func(tc *peer.TLS) peer.Peer { return peer.NewGorilla(tc) })
}

func TestCoder(t *testing.T) {
	runGoPeer(t, goCaps, func(tc *peer.TLS) peer.Peer { return peer.NewCoder(tc) })
}

// runGoPeer runs the matrix against a Go library over ws, and over wss
// with a certificate from a test CA that both sides verify.
func runGoPeer(t *testing.T, caps matrix.Caps, newPeer func(*peer.TLS) peer.Peer) {
	t.Run("ws", func(t *testing.T) {
		p := newPeer(nil)
		defer p.Close()
		matrix.Run(t, p, caps, matrix.Options{})
	})
	t.Run("wss", func(t *testing.T) {
		ca, err := testca.New()
		if err != nil {
			t.Fatal(err)
		}
		p := newPeer(&peer.TLS{Server: ca.Server, Roots: ca.Pool()})
		defer p.Close()
		if !strings.HasPrefix(p.ServerURL(), "wss://") {
			t.Fatalf("the peer's server is at %s, want wss", p.ServerURL())
		}
		matrix.Run(t, p, caps, matrix.Options{TLS: &ca.Server, ClientTLS: &tls.Config{RootCAs: ca.Pool()}})
	})
}
