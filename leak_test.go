package starling_test

import (
	"testing"

	"github.com/starling-ws/starling/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }
