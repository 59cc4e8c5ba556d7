package echo

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/starling-ws/starling/internal/sysio"
)

func init() {
	register("floor-epoll", serveFloorEpoll)
}

// serveFloorEpoll is the floor (floor.go) with an event loop in place of a
// goroutine per connection, the yardstick for designs such as nbio's: it
// asks whether leaving the goroutine-per-connection model could beat the
// floor. One goroutine waits on a level-triggered epoll set (through the
// runtime's own poller, so it never blocks a thread), reads each ready
// socket once (no read ends in EAGAIN, as the floor's last read of a
// burst does) and writes the replies; a reply the socket cannot take
// waits for EPOLLOUT while the connection's reading pauses. It frames
// replies as the floor does and checks as little.
func serveFloorEpoll(ctx context.Context, addr string, ready func(net.Addr)) error {
	l, err := newEpollLoop()
	if err != nil {
		return err
	}
	defer l.close()
	go l.run()
	return serveRaw(ctx, addr, ready, func(nc net.Conn) {
		if !floorAccept(ctx, nc) {
			return
		}
		// File gives the loop a descriptor of its own; closing nc then
		// takes the socket out of the runtime's poller.
		f, err := nc.(*net.TCPConn).File()
		nc.Close()
		if err != nil {
			return
		}
		l.add(f)
	})
}

// epollLoop is one epoll set and the connections in it.
type epollLoop struct {
	ep *os.File // the epoll descriptor, registered with the runtime's poller
	fd int

	mu    sync.Mutex
	conns map[int]*epollConn
}

// epollConn is one connection's state between events.
type epollConn struct {
	f       *os.File
	fd      int
	in      []byte // received bytes; in[:have] not yet framed
	have    int
	r       floorReply
	pending []byte // reply bytes the socket could not take yet; c is
	// then watched for EPOLLOUT instead of EPOLLIN
	iov []syscall.Iovec
}

func newEpollLoop() (*epollLoop, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &epollLoop{ep: os.NewFile(uintptr(fd), "epoll"), fd: fd, conns: map[int]*epollConn{}}, nil
}

func (l *epollLoop) add(f *os.File) {
	fd := int(f.Fd()) // Fd leaves f blocking: make it non-blocking again
	if syscall.SetNonblock(fd, true) != nil {
		f.Close()
		return
	}
	c := &epollConn{f: f, fd: fd, in: make([]byte, 64<<10)}
	l.mu.Lock()
	l.conns[fd] = c
	l.mu.Unlock()
	if l.watch(syscall.EPOLL_CTL_ADD, c, syscall.EPOLLIN) != nil {
		l.drop(c)
	}
}

func (l *epollLoop) watch(op int, c *epollConn, events uint32) error {
	return syscall.EpollCtl(l.fd, op, c.fd, &syscall.EpollEvent{Events: events, Fd: int32(c.fd)})
}

func (l *epollLoop) drop(c *epollConn) {
	syscall.EpollCtl(l.fd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	l.mu.Lock()
	delete(l.conns, c.fd)
	l.mu.Unlock()
	c.f.Close()
}

// close ends run and closes every connection.
func (l *epollLoop) close() {
	l.ep.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for fd, c := range l.conns {
		c.f.Close()
		delete(l.conns, fd)
	}
}

// run serves events until the loop is closed. The epoll descriptor is
// edge-triggered in the runtime's poller, so each wait starts with an
// epoll_wait that does not block, and parks only when it finds nothing.
func (l *epollLoop) run() {
	rc, err := l.ep.SyscallConn()
	if err != nil {
		return
	}
	events := make([]syscall.EpollEvent, 256)
	for {
		var n int
		err := rc.Read(func(uintptr) bool {
			n, _ = syscall.EpollWait(l.fd, events, 0)
			return n > 0
		})
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			l.mu.Lock()
			c := l.conns[int(ev.Fd)]
			l.mu.Unlock()
			if c != nil && !l.serve(c, ev.Events) {
				l.drop(c)
			}
		}
	}
}

// serve handles one event of c and reports whether c stays open. It reads
// again only while a read fills all the space it was given: a shorter one
// found the socket drained, without the read ending in EAGAIN.
func (l *epollLoop) serve(c *epollConn, events uint32) bool {
	if events&syscall.EPOLLOUT != 0 {
		return l.flush(c)
	}
	for {
		n, err := sysio.Read(uintptr(c.fd), c.in[c.have:])
		if n <= 0 {
			return errors.Is(err, syscall.EAGAIN)
		}
		c.have += n
		more := c.have == len(c.in)
		if !l.reply(c) {
			return false
		}
		if !more || len(c.pending) > 0 {
			return true
		}
	}
}

// reply answers the whole frames in c.in, as the floor does, and keeps the
// rest; a frame larger than c.in grows it to the frame's size, so that it
// is read in as few calls as the floor's.
func (l *epollLoop) reply(c *epollConn) bool {
	used := 0
	for {
		size, ok := c.r.add(c.in[used:c.have])
		if !ok {
			break
		}
		if c.in[used]&0x0f == 0x8 { // close
			sysio.Write(uintptr(c.fd), []byte{0x88, 0}, nil)
			return false
		}
		used += size
	}
	c.r.cut()
	ok := l.send(c, c.r.bufs)
	c.r.out, c.r.mark, c.r.bufs = c.r.out[:0], 0, c.r.bufs[:0]
	c.have = copy(c.in, c.in[used:c.have])
	if hdr, size, whole := floorHeader(c.in[:c.have]); whole && hdr+4+size > len(c.in) {
		c.in = append(c.in, make([]byte, hdr+4+size-len(c.in))...)
	}
	return ok
}

// send writes bufs in one writev, as the floor does. What the socket does
// not take waits in c.pending for EPOLLOUT, and c is not read meanwhile,
// as a blocked writer would not.
func (l *epollLoop) send(c *epollConn, bufs [][]byte) bool {
	if len(bufs) == 0 {
		return true
	}
	n, errno := writev(uintptr(c.fd), &c.iov, bufs)
	if errno != 0 {
		if errno != syscall.EAGAIN {
			return false
		}
		n = 0
	}
	for _, b := range bufs {
		if n >= len(b) {
			n -= len(b)
			continue
		}
		c.pending = append(c.pending, b[n:]...)
		n = 0
	}
	if len(c.pending) > 0 {
		return l.watch(syscall.EPOLL_CTL_MOD, c, syscall.EPOLLOUT) == nil
	}
	return true
}

// flush writes c's pending reply once the socket takes more, and reads c
// again when it is all written.
func (l *epollLoop) flush(c *epollConn) bool {
	n, err := sysio.Write(uintptr(c.fd), c.pending, nil)
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		return false
	}
	c.pending = c.pending[max(n, 0):]
	if len(c.pending) > 0 {
		return true // still EPOLLOUT
	}
	c.pending = nil
	return l.watch(syscall.EPOLL_CTL_MOD, c, syscall.EPOLLIN) == nil
}
