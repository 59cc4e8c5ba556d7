//go:build !purego

package frame

// useAVX2 selects the 32-byte kernel; SSE2 is part of every amd64 CPU.
var useAVX2 = hasAVX2()

// maskVector masks a prefix of b, which holds at least 64 bytes, and
// returns its length; Mask does the rest.
func maskVector(b []byte, k uint64) int {
	if len(b) < 64 {
		return 0
	}
	if useAVX2 {
		return maskAVX2(b, k)
	}
	return maskSSE2(b, k)
}

// hasAVX2 reports whether the CPU has AVX2 and the OS saves the YMM
// registers (CPUID leaf 7 EBX bit 5; leaf 1 ECX bits 27 OSXSAVE and 28 AVX;
// XCR0 bits 1 and 2).
func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(1<<27) == 0 || ecx1&(1<<28) == 0 {
		return false
	}
	if xcr0 := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// maskSSE2 XORs b with k in 64-byte blocks and returns the bytes done.
//
//go:noescape
func maskSSE2(b []byte, k uint64) int

// maskAVX2 XORs all of b, which must hold at least 64 bytes, with k and
// returns len(b).
//
//go:noescape
func maskAVX2(b []byte, k uint64) int

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax uint32)
