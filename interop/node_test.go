package interop_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// TestNodeWS runs the matrix against the npm package ws, installed in
// node/ by `npm ci`, over ws and over wss (see runOverTLS).
func TestNodeWS(t *testing.T) {
	caps := matrix.Caps{
		Server: true, Client: true,
		SendsFragments: true, SendsPings: true, PingPayload: true, DropsTCP: true, CustomHeader: true, Deflate: true,
	}
	runOverTLS(t, caps, "NODE_EXTRA_CA_CERTS", startNode)
}

func startNode(env []string) (*peer.Process, error) {
	if _, err := os.Stat("node/node_modules/ws/package.json"); err != nil {
		return nil, fmt.Errorf("ws is not installed (run npm ci in interop/node): %w: %v", peer.ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return peer.StartProcess(ctx, "node-ws", "node", env, "node", "peer.js")
}

// runOverTLS runs the matrix against a peer process started by start, once
// over ws and once over wss: then the peer's server has a certificate from
// a test CA (STARLING_TLS_CERT and STARLING_TLS_KEY), its client trusts
// that CA through the variable trustVar, Starling's server has the same
// certificate and its client trusts the CA. Certificates are verified on
// both sides.
func runOverTLS(t *testing.T, caps matrix.Caps, trustVar string, start func(env []string) (*peer.Process, error)) {
	run := func(t *testing.T, env []string, opts matrix.Options, scheme string) {
		p, err := start(env)
		matrix.Require(t, err)
		defer closePeer(t, p)
		if !strings.HasPrefix(p.ServerURL(), scheme+"://") {
			t.Fatalf("the peer's server is at %s, want %s", p.ServerURL(), scheme)
		}
		matrix.Run(t, p, caps, opts)
	}
	t.Run("ws", func(t *testing.T) { run(t, nil, matrix.Options{}, "ws") })
	t.Run("wss", func(t *testing.T) {
		ca, err := testca.New()
		if err != nil {
			t.Fatal(err)
		}
		caFile, certFile, keyFile, err := ca.WriteFiles(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		env := []string{"STARLING_TLS_CERT=" + certFile, "STARLING_TLS_KEY=" + keyFile, trustVar + "=" + caFile}
		run(t, env, matrix.Options{TLS: &ca.Server, ClientTLS: &tls.Config{RootCAs: ca.Pool()}}, "wss")
	})
}

// closePeer stops p, failing t if the peer exited with an error.
func closePeer(t *testing.T, p *peer.Process) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Errorf("%s peer: %v", p.Name(), err)
	}
}
