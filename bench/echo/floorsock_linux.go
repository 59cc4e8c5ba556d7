package echo

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"github.com/starling-ws/starling/internal/sysio"
)

// floorSock reads and writes a socket as Starling does (internal/sysio):
// through its raw connection, with system calls the Go scheduler does not
// see, so that the floor stays the least a goroutine-per-connection echo
// can spend (with net.Conn's Read and Write it spent 1.67× the CPU per
// message at 1 connection × 16 B, window 1: see bench/README.md).
type floorSock struct {
	rc      syscall.RawConn
	readFn  func(uintptr) bool
	writeFn func(uintptr) bool
	p       []byte // the read's
	n       int
	err     error
	bufs    [][]byte // what is left to write
	iov     []syscall.Iovec
}

func newFloorSock(nc net.Conn) (*floorSock, error) {
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &floorSock{rc: rc}
	s.readFn, s.writeFn = s.readFD, s.writeFD
	return s, nil
}

// Read reads into p, waiting for data.
func (s *floorSock) Read(p []byte) (int, error) {
	s.p, s.n, s.err = p, 0, nil
	if err := s.rc.Read(s.readFn); err != nil {
		return 0, err
	}
	return s.n, s.err
}

func (s *floorSock) readFD(fd uintptr) bool {
	n, err := sysio.Read(fd, s.p)
	if err == syscall.EAGAIN {
		return false
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	s.n, s.err = n, err
	return true
}

// Writev writes bufs, none empty, with writev calls, waiting while the
// socket's buffer is full.
func (s *floorSock) Writev(bufs [][]byte) error {
	s.bufs, s.err = bufs, nil
	if err := s.rc.Write(s.writeFn); err != nil {
		return err
	}
	s.bufs = nil
	return s.err
}

func (s *floorSock) writeFD(fd uintptr) bool {
	for len(s.bufs) > 0 {
		n, errno := writev(fd, &s.iov, s.bufs)
		if errno == syscall.EAGAIN {
			return false
		}
		if errno != 0 {
			s.err = errno
			return true
		}
		s.bufs = consume(s.bufs, n)
	}
	return true
}

// writev writes bufs, none empty, with one bare writev call (as sysio
// makes its calls), building the vector in *iov.
func writev(fd uintptr, iov *[]syscall.Iovec, bufs [][]byte) (int, syscall.Errno) {
	v := (*iov)[:0]
	for _, b := range bufs {
		e := syscall.Iovec{Base: &b[0]}
		e.SetLen(len(b))
		v = append(v, e)
	}
	*iov = v
	for {
		r, _, errno := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
		if errno != syscall.EINTR {
			return int(r), errno
		}
	}
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
