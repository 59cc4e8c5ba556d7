package client_test

import (
	"testing"

	"github.com/starling-ws/starling/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every client's
// reader, writer, heartbeat and delivery goroutine, and every server and
// relay a test started, must be gone once its cleanups have run.
func TestMain(m *testing.M) { leakcheck.Main(m) }
