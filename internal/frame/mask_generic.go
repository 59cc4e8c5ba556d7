//go:build !amd64 || purego

package frame

// maskVector masks the longest prefix of b made of whole 64-byte blocks and
// returns its length.
func maskVector(b []byte, k uint64) int { return maskBlocks(b, k) }
