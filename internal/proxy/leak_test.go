package proxy

import (
	"runtime"
	"testing"
	"time"
)

// checkLeaks fails t if, once its cleanups have run (servers included),
// more goroutines are running than when checkLeaks was called. Goroutines
// take a moment to exit, so it polls for a while before failing.
func checkLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for range 250 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}
