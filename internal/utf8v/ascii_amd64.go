//go:build !purego

package utf8v

// asciiBlocks returns the length of the run of ASCII at the start of p,
// counted in whole 64-byte blocks. It is SSE2, which every amd64 CPU has.
//
//go:noescape
func asciiBlocks(p []byte) int
