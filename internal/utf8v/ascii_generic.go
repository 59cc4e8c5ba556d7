//go:build !amd64 || purego

package utf8v

// asciiBlocks returns the length of the run of ASCII at the start of p,
// counted in whole 64-byte blocks.
func asciiBlocks(p []byte) int { return asciiBlocksGo(p) }
