package interop_test

import (
	"crypto/tls"
	"testing"

	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/peer"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// TestNodeWSEdges runs the edge cells (matrix.RunEdges) against Node's ws
// over ws and wss.
func TestNodeWSEdges(t *testing.T) {
	runEdges(t, "NODE_EXTRA_CA_CERTS", startNode)
}

// TestPythonWebsocketsEdges runs the edge cells against python-websockets
// over ws and wss.
func TestPythonWebsocketsEdges(t *testing.T) {
	runEdges(t, "SSL_CERT_FILE", startPython)
}

func runEdges(t *testing.T, trustVar string, start func(env []string) (*peer.Process, error)) {
	t.Run("ws", func(t *testing.T) {
		p, err := start(nil)
		matrix.Require(t, err)
		defer closePeer(t, p)
		matrix.RunEdges(t, p, matrix.Options{})
	})
	t.Run("wss", func(t *testing.T) {
		ca, err := testca.New()
		if err != nil {
			t.Fatal(err)
		}
		caFile, certFile, keyFile, err := ca.WriteFiles(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		p, err := start([]string{"STARLING_TLS_CERT=" + certFile, "STARLING_TLS_KEY=" + keyFile, trustVar + "=" + caFile})
		matrix.Require(t, err)
		defer closePeer(t, p)
		matrix.RunEdges(t, p, matrix.Options{TLS: &ca.Server, ClientTLS: &tls.Config{RootCAs: ca.Pool()}})
	})
}
