package interop_test

import (
	"testing"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
)

// goCaps: both Go libraries play every cell.
var goCaps = matrix.Caps{
	Server: true, Client: true,
	SendsFragments: true, SendsPings: true, DropsTCP: true, CustomHeader: true, Deflate: true,
}

func TestGorilla(t *testing.T) {
	p := peer.NewGorilla()
	defer p.Close()
	caps := goCaps
	caps.PingPayload = true
	caps.DeflateNoTakeoverOnly = true
	matrix.Run(t, p, caps, matrix.Options{})
}

func TestCoder(t *testing.T) {
	p := peer.NewCoder()
	defer p.Close()
	matrix.Run(t, p, goCaps, matrix.Options{})
}
