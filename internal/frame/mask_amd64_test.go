//go:build !purego

package frame

func init() {
	kernels = append(kernels, kernel{"sse2", 64, maskSSE2})
	if useAVX2 {
		kernels = append(kernels, kernel{"avx2", 128, maskAVX2})
	}
}
