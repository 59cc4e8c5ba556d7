package interop_test

import (
	"testing"

	"github.com/starling-ws/starling/interop/internal/matrix"
)

// TestNodeWSDeflateParams runs the permessage-deflate parameter cells
// (matrix.RunDeflateParams) against Node's ws, which compresses with 9
// bits when 8 are agreed, as zlib cannot do 8.
func TestNodeWSDeflateParams(t *testing.T) {
	p, err := startNode(nil)
	matrix.Require(t, err)
	defer closePeer(t, p)
	matrix.RunDeflateParams(t, p, matrix.DeflatePeer{MinWindowBits: 8})
}

// TestPythonWebsocketsDeflateParams runs the permessage-deflate parameter
// cells against python-websockets, whose zlib refuses to compress with an
// 8-bit window.
func TestPythonWebsocketsDeflateParams(t *testing.T) {
	p, err := startPython(nil)
	matrix.Require(t, err)
	defer closePeer(t, p)
	matrix.RunDeflateParams(t, p, matrix.DeflatePeer{MinWindowBits: 9})
}
