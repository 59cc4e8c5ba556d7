package interop_test

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// TestChromium runs the matrix against Debian's headless Chromium, over ws
// and over wss with a certificate from a test CA that the browser trusts
// through its NSS database.
func TestChromium(t *testing.T) {
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := peer.NewChromium(ctx, [][]byte{ca.PEM}, t.Logf)
	matrix.Require(t, err)
	defer p.Close()
	caps := matrix.Caps{Client: true, Cookie: true, Deflate: true}
	t.Run("ws", func(t *testing.T) {
		matrix.Run(t, p, caps, matrix.Options{Page: p.PageHandler()})
	})
	t.Run("wss", func(t *testing.T) {
		matrix.Run(t, p, caps, matrix.Options{Page: p.PageHandler(), TLS: &ca.Server})
	})
}
