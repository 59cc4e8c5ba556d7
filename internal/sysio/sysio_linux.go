//go:build linux && !386

package sysio

import (
	"syscall"
	"unsafe"
)

// Every call passes MSG_DONTWAIT, so that it returns at once even if the
// socket has been made blocking behind the connection's back: os.File's
// Fd does that to every descriptor of a socket, as (*net.TCPConn).File
// returns a duplicate of the connection's. A bare call that waited in the
// kernel would hold its processor, and stop the world with it, until the
// peer sent or took something; and no deadline could end it. (On
// linux/386 socket calls go through socketcall: it takes sysio_syscall.go.)
const (
	readFlags  = syscall.MSG_DONTWAIT
	writeFlags = syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL // EPIPE, not SIGPIPE
)

// Read reads from the socket fd into p. It returns syscall.EAGAIN when
// there is nothing to read.
func Read(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), readFlags, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		acquired()
		return int(n), nil
	}
}

// Write writes a and then b to the socket fd with one system call (sendto,
// or sendmsg for both). It returns how many bytes it wrote, or
// syscall.EAGAIN when the socket's buffer is full.
func Write(fd uintptr, a, b []byte) (int, error) {
	if len(a) == 0 {
		a, b = b, nil
	}
	if len(a) == 0 {
		return 0, nil
	}
	released()
	for {
		var n uintptr
		var errno syscall.Errno
		if len(b) == 0 {
			n, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&a[0])), uintptr(len(a)), writeFlags, 0, 0)
		} else {
			n, errno = sendmsg(fd, a, b)
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

// sendmsg writes a and then b with one sendmsg call. It is not inlined
// so that its iovecs and message header (88 bytes) stay out of Write's
// stack frame: most writes are one buffer, and with a thousand busy
// connections every byte of stack a write goes down costs cache misses,
// since each goroutine's stack is cold when its turn comes.
//
//go:noinline
func sendmsg(fd uintptr, a, b []byte) (uintptr, syscall.Errno) {
	iov := [2]syscall.Iovec{{Base: &a[0]}, {Base: &b[0]}}
	iov[0].SetLen(len(a))
	iov[1].SetLen(len(b))
	msg := syscall.Msghdr{Iov: &iov[0], Iovlen: 2}
	n, _, errno := syscall.RawSyscall(syscall.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), writeFlags)
	return n, errno
}
