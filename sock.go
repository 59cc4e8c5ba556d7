package starling

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/starling-ws/starling/internal/sysio"
)

// Every write to the transport goes through send or sendv, with frameMu
// held, and every read but the one that waits for a frame (readBuffer's
// rawReadFunc) through recv. On a TCP or Unix socket they go through its raw
// connection with internal/sysio's system calls, which do not hand the
// goroutine's processor to another thread while the kernel copies (see
// there); on anything else, through the transport's Read and Write.
// Written bytes count in Stats here, read ones where the reader takes them.

// recv reads into p, which must not be empty. A read cut short by its
// context returns an *interruptedError (interrupt.go).
func (c *Conn) recv(p []byte) (int, error) {
	for {
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
		if err == nil || !c.flags.has(flagReadInterrupted) {
			return n, err
		}
		if err = c.takeReadInterrupt(err); err != nil {
			return n, err
		}
	}
}

// send writes b. With no batch, nothing is kept to go first, so sendv's
// work is sendvOnce's but for an interrupted write: calling sendvOnce
// directly makes the usual write a frame less deep.
func (c *Conn) send(b []byte) error {
	if c.batch != nil {
		return c.sendv(b, nil)
	}
	n, err := c.sendvOnce(b, nil)
	if err != nil && c.flags.has(flagWriteInterrupted) {
		return c.resumeSend(b, n, err)
	}
	return err
}

// resumeSend is sendvInterrupted for send, with fewer arguments to make
// room for in send's frame (so it must not be inlined there).
//
//go:noinline
func (c *Conn) resumeSend(b []byte, n int64, err error) error {
	return c.sendvInterrupted(b, nil, n, err)
}

// sendv writes a and then b, in one system call when it can: a frame's
// header and a payload that is not copied next to it. What an interrupted
// write left unsent goes first. If this call is interrupted in turn, it
// returns an *interruptedError, having kept what is left of a and b to go
// first next time if it began writing them (interrupt.go).
func (c *Conn) sendv(a, b []byte) error {
	if err := c.sendKept(); err != nil {
		if ie, ok := err.(*interruptedError); ok {
			return &interruptedError{err: ie.err} // a and b not begun
		}
		return err
	}
	n, err := c.sendvOnce(a, b)
	if err == nil || !c.flags.has(flagWriteInterrupted) {
		return err
	}
	return c.sendvInterrupted(a, b, n, err)
}

// sendvInterrupted is sendv once a write of a and b was interrupted after
// n bytes: it resumes the write, or keeps its rest. It is a function of
// its own so that every other write goes down a shallower stack.
func (c *Conn) sendvInterrupted(a, b []byte, n int64, err error) error {
	for {
		a, b = unwritten(a, b, n)
		if err = c.takeWriteInterrupt(err); err != nil {
			if ie, ok := err.(*interruptedError); ok {
				c.keepUnsent(a, b)
				ie.kept = true
			}
			return err
		}
		if n, err = c.sendvOnce(a, b); err == nil || !c.flags.has(flagWriteInterrupted) {
			return err
		}
	}
}

// unwritten returns what is left of a and b once n bytes are written.
func unwritten(a, b []byte, n int64) ([]byte, []byte) {
	if n < int64(len(a)) {
		return a[n:], b
	}
	return b[n-int64(len(a)):], nil
}

// sendKept sends what an interrupted write left unsent, if anything.
func (c *Conn) sendKept() error {
	if c.batch == nil || c.batch.unsent == nil {
		return nil
	}
	rest := c.batch.unsent
	c.batch.unsent = nil
	return c.sendv(rest, nil)
}

// keepUnsent copies a and b to be sent before anything else, and sees
// that they leave even if nothing else is written.
func (c *Conn) keepUnsent(a, b []byte) {
	if c.batch == nil {
		c.batch = new(batch)
	}
	c.batch.unsent = append(append(make([]byte, 0, len(a)+len(b)), a...), b...)
	if c.flags.claim(flagUnsentWriter) {
		go c.sendUnsent()
	}
}

// sendUnsent sends what a cut write left, as a kernel sends the bytes a
// TCP write took: NetConn's Write reported them written, and a program
// that then only reads may wait for an answer to them. The write timeout
// bounds it as any write.
func (c *Conn) sendUnsent() {
	_ = c.locked(context.Background(), controlFrame, func() error {
		c.flags.set(flagUnsentWriter, false)
		return c.sendKept() // nothing if a later write sent it
	})
}

// sendvOnce is sendv's write of a and b, which returns how much it wrote.
//
// On a socket, the write timeout is armed only once the socket's buffer is
// full and a frame's write has to wait, and disarmed when the frame is
// written (disarmWriteDeadline), not moved for every write
// (armWriteDeadline): a deadline is a timer in the runtime's heap for as
// long as it is set, and with 1,000 busy connections those timers cost the
// server about 12 % of its CPU (moving them, and every other timer update
// in a heap twice the size).
func (c *Conn) sendvOnce(a, b []byte) (int64, error) {
	s := c.sock
	if s == nil {
		return c.sendvConn(a, b)
	}
	s.wa, s.wb, s.wn, s.werr = a, b, 0, nil
	err := s.write(false)
	if err == nil && len(s.wa) > 0 {
		c.armSockWrite()
		err = s.write(true)
	}
	s.wa, s.wb = nil, nil // keep no reference to the caller's bytes
	c.stats.bytesWritten.Add(s.wn)
	if err != nil {
		err = c.opError("write", err)
	}
	return s.wn, err
}

// armSockWrite sets the write timeout for a socket write that has to wait,
// unless it is set. It is apart from sendvOnce, whose frame every write
// goes through, to keep that frame small.
func (c *Conn) armSockWrite() {
	if s := c.sock; c.writeTimeout > 0 && !s.armed && !s.deadlineSet {
		c.setWriteDeadline(c.rwc.(deadliner), time.Now().Add(c.writeTimeout))
		s.armed = true
	}
}

// sendvConn is sendvOnce on a transport that is not a socket.
func (c *Conn) sendvConn(a, b []byte) (int64, error) {
	var n int64
	var err error
	if len(b) == 0 {
		var m int
		m, err = c.rwc.Write(a)
		n = int64(m)
	} else {
		bufs := net.Buffers{a, b}
		n, err = bufs.WriteTo(c.rwc)
	}
	c.stats.bytesWritten.Add(n)
	return n, err
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
	readFn  func(uintptr) bool // from readFunc, made once
	waitFn  func(uintptr) bool // from readBuffer.rawReadFunc, made once
	writeFn func(uintptr) bool // from writeFunc, made once

	rp   []byte // where the read in progress reads to
	rn   int
	rerr error // the read's, or the wait's

	wa, wb []byte // what is left to write
	wn     int64
	werr   error
	wait   bool // whether writeFunc's function waits for the socket to take more
	armed  bool // sendvOnce set the write deadline for the frame being written
	// deadlineSet is set once a write deadline is set for good (as the
	// connection closes): sendvOnce must not move it.
	deadlineSet bool
}

func newSock(rc syscall.RawConn) *sock {
	s := &sock{rc: rc}
	s.readFn, s.writeFn = s.readFunc(), s.writeFunc()
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

// readFunc returns the function the raw connection calls with its
// descriptor to read: it reads once, or reports false to be called again
// when there is data. It is a closure rather than a method value, which
// would call the method from a wrapper: a stack frame more on every read.
func (s *sock) readFunc() func(uintptr) bool {
	return func(fd uintptr) bool {
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
}

// write writes what is left in wa and wb, adding to wn. With wait, it
// waits while the socket's buffer is full; without, it returns with the
// rest left. werr must be nil. It is small enough to be inlined.
func (s *sock) write(wait bool) error {
	s.wait = wait
	if err := s.rc.Write(s.writeFn); err != nil {
		return err
	}
	return s.werr
}

// writeFunc returns the function the raw connection calls with its
// descriptor to write: it writes until all is written, or until the
// socket's buffer is full, and then reports false to be called again once
// the socket takes more, if it waits. A closure, as readFunc's.
func (s *sock) writeFunc() func(uintptr) bool {
	return func(fd uintptr) bool {
		if len(s.wa) == 0 {
			s.wa, s.wb = s.wb, nil
		}
		for len(s.wa) > 0 {
			n, err := sysio.Write(fd, s.wa, s.wb)
			if err == syscall.EAGAIN {
				return !s.wait
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
}
