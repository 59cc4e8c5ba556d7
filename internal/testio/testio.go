// Package testio has readers for tests of code that reads streams.
package testio

import (
	"io"
	"math/rand/v2"
)

// ChoppyReader returns B in random pieces drawn from R: sometimes none at
// all (which io.Reader allows), pieces of 1 byte to a few KiB, and
// sometimes the last piece together with io.EOF, as a network payload
// reader may.
type ChoppyReader struct {
	B []byte
	R *rand.Rand
}

// Read reads the next piece of B.
func (c *ChoppyReader) Read(p []byte) (int, error) {
	if len(c.B) == 0 {
		return 0, io.EOF
	}
	if c.R.IntN(10) == 0 {
		return 0, nil
	}
	k := min(len(p), len(c.B), 1+c.R.IntN([]int{1, 7, 300, 5000}[c.R.IntN(4)]))
	n := copy(p, c.B[:k])
	c.B = c.B[n:]
	if len(c.B) == 0 && c.R.IntN(2) == 0 {
		return n, io.EOF
	}
	return n, nil
}
