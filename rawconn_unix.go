//go:build unix

package starling

import (
	"io"
	"net"
	"syscall"
)

// rawConn returns the raw connection of a TCP or Unix socket, through which
// a read can wait for data before it needs a buffer to read into.
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

// readFD reads from a non-blocking descriptor.
func readFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err != syscall.EINTR {
			if err != nil {
				return 0, err
			}
			return n, nil
		}
	}
}
