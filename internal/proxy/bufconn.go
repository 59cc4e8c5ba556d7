package proxy

import (
	"bufio"
	"net"
	"sync"
)

// withBuffered returns conn, or conn behind the bytes br has already read
// from it: a proxy may send the target's first bytes in the same packet as
// its response head, and they must not be lost.
func withBuffered(conn net.Conn, br *bufio.Reader) net.Conn {
	n := br.Buffered()
	if n == 0 {
		return conn
	}
	b, _ := br.Peek(n)
	return &bufferedConn{Conn: conn, buf: append([]byte(nil), b...)}
}

// bufferedConn is a net.Conn whose reads first drain buf.
type bufferedConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}
