package interop_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// TestNodeWS runs the matrix against the npm package ws, installed in
// node/ by `npm ci`.
func TestNodeWS(t *testing.T) {
	p, err := startNode()
	matrix.Require(t, err)
	defer func() {
		if err := p.Close(); err != nil {
			t.Errorf("node peer: %v", err)
		}
	}()
	matrix.Run(t, p, matrix.Caps{
		Server: true, Client: true,
		SendsFragments: true, SendsPings: true, PingPayload: true, DropsTCP: true, CustomHeader: true, Deflate: true,
	}, matrix.Options{})
}

func startNode() (*peer.Process, error) {
	if _, err := os.Stat("node/node_modules/ws/package.json"); err != nil {
		return nil, fmt.Errorf("ws is not installed (run npm ci in interop/node): %w: %v", peer.ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return peer.StartProcess(ctx, "node-ws", "node", "node", "peer.js")
}
