//go:build !unix

package starling

import (
	"io"
	"syscall"
)

// rawConn returns nil: elsewhere, reads wait with a small buffer held.
func rawConn(io.Reader) syscall.RawConn { return nil }
