//go:build (unix && !linux) || (linux && 386)

package sysio

import "syscall"

// Read reads from the non-blocking descriptor fd into p. It returns
// syscall.EAGAIN when there is nothing to read.
func Read(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return ignoringEINTR(syscall.Read, fd, p)
}

// Write writes a, or when a is written and b is not empty, as much of b
// as the socket takes, to the non-blocking descriptor fd. It returns how
// many bytes it wrote, or syscall.EAGAIN when the socket's buffer is full.
func Write(fd uintptr, a, b []byte) (int, error) {
	if len(a) == 0 {
		a, b = b, nil
	}
	if len(a) == 0 {
		return 0, nil
	}
	n, err := ignoringEINTR(syscall.Write, fd, a)
	if err != nil || n < len(a) || len(b) == 0 {
		return n, err
	}
	m, err := ignoringEINTR(syscall.Write, fd, b)
	if err == syscall.EAGAIN {
		err = nil // a went out
	}
	return n + m, err
}

// ignoringEINTR makes the call io until it is not interrupted by a signal.
func ignoringEINTR(io func(int, []byte) (int, error), fd uintptr, p []byte) (int, error) {
	for {
		n, err := io(int(fd), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}
