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

// debianPython is Debian's interpreter, which sees python3-websockets;
// the python3 first on PATH may be another one.
const debianPython = "/usr/bin/python3"

// debianWebsockets is where python3-websockets installs the module.
const debianWebsockets = "/usr/lib/python3/dist-packages/websockets"

// TestPythonWebsockets runs the matrix against Debian's python3-websockets,
// over ws and over wss (see runOverTLS; Python's default TLS context
// trusts the CA through SSL_CERT_FILE).
func TestPythonWebsockets(t *testing.T) {
	caps := matrix.Caps{
		Server: true, Client: true,
		SendsFragments: true, SendsPings: true, PingPayload: true, DropsTCP: true, CustomHeader: true, Deflate: true,
	}
	runOverTLS(t, caps, "SSL_CERT_FILE", startPython)
}

func startPython(env []string) (*peer.Process, error) {
	if _, err := os.Stat(debianWebsockets); err != nil {
		return nil, fmt.Errorf("python3-websockets is not installed: %w: %v", peer.ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return peer.StartProcess(ctx, "python-websockets", "python", env, debianPython, "peer.py")
}
