//go:build linux && !race

package sysio

import (
	"syscall"
	"unsafe"
)

// Read reads from the non-blocking descriptor fd into p. It returns
// syscall.EAGAIN when there is nothing to read.
func Read(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
}

// Write writes a and then b to the non-blocking descriptor fd with one
// system call (write, or writev for both). It returns how many bytes it
// wrote, or syscall.EAGAIN when the socket's buffer is full.
func Write(fd uintptr, a, b []byte) (int, error) {
	if len(a) == 0 {
		a, b = b, nil
	}
	if len(a) == 0 {
		return 0, nil
	}
	for {
		var n uintptr
		var errno syscall.Errno
		if len(b) == 0 {
			n, _, errno = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&a[0])), uintptr(len(a)))
		} else {
			iov := [2]syscall.Iovec{{Base: &a[0]}, {Base: &b[0]}}
			iov[0].SetLen(len(a))
			iov[1].SetLen(len(b))
			n, _, errno = syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), 2)
		}
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
}
