//go:build !purego

package frame

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func init() {
	kernels = append(kernels, kernel{"sse2", 64, maskSSE2})
	if useAVX2 {
		kernels = append(kernels, kernel{"avx2", 128, maskAVX2})
	}
}

// TestHasAVX2 compares the CPUID check with the kernel's view of the CPU:
// Linux lists avx2 among the flags in /proc/cpuinfo only when both the CPU
// and the kernel support it.
func TestHasAVX2(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/cpuinfo is Linux only")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	for line := range strings.Lines(string(info)) {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		want := slices.Contains(strings.Fields(flags), "avx2")
		if got := hasAVX2(); got != want {
			t.Fatalf("hasAVX2() = %v, /proc/cpuinfo says avx2 is %v", got, want)
		}
		return
	}
	t.Skip("no flags line in /proc/cpuinfo")
}
