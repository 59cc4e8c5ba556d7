// Package leakcheck fails a test binary whose goroutines outlive its tests.
package leakcheck

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and exits, with a failure if, once they have passed,
// the goroutine count does not return to its level before them within ten
// seconds: every reader, writer, timer and server a test started must be
// gone once its cleanups have run. Call it from TestMain.
func Main(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	// A fuzzing run keeps goroutines of the fuzzing engine's own.
	if fuzz := flag.Lookup("test.fuzz"); code == 0 && (fuzz == nil || fuzz.Value.String() == "") {
		if leaked := leaked(before); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines outlived the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func leaked(before int) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if runtime.NumGoroutine() <= before {
			return ""
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			return fmt.Sprintf("%d before, %d after\n%s", before, runtime.NumGoroutine(), strings.TrimSpace(stacks))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
