package starling

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/starling-ws/starling/internal/sysio"
)

// Every write to the transport goes through send or sendv, with frameMu
// held, and every read but the one that waits for a frame (readBuffer's
// rawRead) through recv. On a TCP or Unix socket they go through its raw
// connection with internal/sysio's system calls, which do not hand the
// goroutine's processor to another thread while the kernel copies (see
// there); on anything else, through the transport's Read and Write.
// Written bytes count in Stats here, read ones where the reader takes them.

// recv reads into p, which must not be empty.
func (c *Conn) recv(p []byte) (int, error) {
	var n int
	var err error
	if c.sock != nil {
		n, err = c.sock.read(p)
		if err != nil && err != io.EOF {
			err = c.opError("read", err)
		}
	} else {
		n, err = c.rwc.Read(p)
	}
	return n, err
}

// send writes b.
func (c *Conn) send(b []byte) error {
	return c.sendv(b, nil)
}

// sendv writes a and then b, in one system call when it can: a frame's
// header and a payload that is not copied next to it.
func (c *Conn) sendv(a, b []byte) error {
	var n int64
	var err error
	switch {
	case c.sock != nil:
		n, err = c.sock.write(a, b)
		if err != nil {
			err = c.opError("write", err)
		}
	case len(b) == 0:
		var m int
		m, err = c.rwc.Write(a)
		n = int64(m)
	default:
		bufs := net.Buffers{a, b}
		n, err = bufs.WriteTo(c.rwc)
	}
	c.stats.bytesWritten.Add(n)
	return err
}

// opError wraps a failed system call's error as the net package wraps the
// errors of its Read and Write.
func (c *Conn) opError(op string, err error) error {
	if _, ok := err.(syscall.Errno); !ok {
		return err // the raw connection's own: already a *net.OpError
	}
	nc := c.rwc.(net.Conn) // a sock's Conn is a socket's
	return &net.OpError{Op: op, Net: nc.LocalAddr().Network(), Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

// sock is a TCP or Unix socket's raw connection, read and written with
// sysio's system calls. The reader uses the fields of a read, a writer
// holding frameMu those of a write.
type sock struct {
	rc      syscall.RawConn
	readFn  func(uintptr) bool // sock.readFD as a func, made once
	waitFn  func(uintptr) bool // readBuffer.rawRead as a func, made once
	writeFn func(uintptr) bool // sock.writeFD as a func, made once

	rp   []byte // where the read in progress reads to
	rn   int
	rerr error // the read's, or the wait's

	wa, wb []byte // what is left to write
	wn     int64
	werr   error
}

func newSock(rc syscall.RawConn) *sock {
	s := &sock{rc: rc}
	s.readFn, s.writeFn = s.readFD, s.writeFD
	return s
}

// read reads into p, which must not be empty, waiting for data if there is
// none yet. It returns io.EOF once the peer has closed.
func (s *sock) read(p []byte) (int, error) {
	s.rp, s.rn, s.rerr = p, 0, nil
	err := s.rc.Read(s.readFn)
	if err == nil {
		err = s.rerr
	}
	s.rp = nil
	return s.rn, err
}

// readFD is called by the raw connection with its descriptor: it reads
// once, or reports false to be called again when there is data.
func (s *sock) readFD(fd uintptr) bool {
	n, err := sysio.Read(fd, s.rp)
	switch {
	case err == syscall.EAGAIN:
		return false
	case n == 0 && err == nil:
		err = io.EOF
	}
	s.rn, s.rerr = n, err
	return true
}

// write writes a and then b, waiting while the socket's buffer is full.
func (s *sock) write(a, b []byte) (int64, error) {
	if len(a) == 0 {
		a, b = b, nil
	}
	if len(a) == 0 {
		return 0, nil
	}
	s.wa, s.wb, s.wn, s.werr = a, b, 0, nil
	err := s.rc.Write(s.writeFn)
	if err == nil {
		err = s.werr
	}
	s.wa, s.wb = nil, nil // keep no reference to the caller's bytes
	return s.wn, err
}

// writeFD is called by the raw connection with its descriptor: it writes
// until all is written, or reports false to be called again once the
// socket takes more.
func (s *sock) writeFD(fd uintptr) bool {
	for len(s.wa) > 0 {
		n, err := sysio.Write(fd, s.wa, s.wb)
		if err == syscall.EAGAIN {
			return false
		}
		if err != nil {
			s.werr = err
			return true
		}
		s.wn += int64(n)
		if n < len(s.wa) {
			s.wa = s.wa[n:]
			continue
		}
		s.wa, s.wb = s.wb[n-len(s.wa):], nil
	}
	return true
}
