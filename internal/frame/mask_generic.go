//go:build !amd64 || purego

package frame

// maskVector masks a prefix of b, which holds at least 64 bytes, and
// returns its length; Mask does the rest.
func maskVector(b []byte, k uint64) int { return maskBlocks(b, k) }
