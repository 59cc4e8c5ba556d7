//go:build unix

package starling

import (
	"io"
	"net"
	"syscall"
)

// rawConn returns the raw connection of a TCP or Unix socket, through which
// a read can wait for data before it needs a buffer to read into, and
// reads and writes can be made with sysio's system calls (sock.go).
func rawConn(rd io.Reader) syscall.RawConn {
	var sc syscall.Conn
	switch c := rd.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
