package starling

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// NetConn returns a net.Conn whose Write sends each call as one message of
// type typ and whose Read returns the payloads of incoming messages as one
// byte stream, for code that wants a stream (TLS, SSH, a line protocol)
// tunnelled over WebSocket. Messages of the other type fail the read with
// 1003 (unsupported data). A normal closure (1000) from the peer reads as
// io.EOF; Close sends 1000.
//
// ctx bounds the adapter's life. Because a frame cannot be resumed once a
// read or write is cut short, a deadline that passes during a Read or Write
// closes the connection, and the call returns an error for which
// errors.Is(err, os.ErrDeadlineExceeded) holds.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	return &netConn{ctx: ctx, c: c, typ: typ}
}

type netConn struct {
	ctx context.Context
	c   *Conn
	typ MessageType

	mu            sync.Mutex // guards the deadlines
	readDeadline  time.Time
	writeDeadline time.Time

	r   io.Reader // the message being read; used by one reader at a time
	eof bool
}

func (nc *netConn) Read(p []byte) (int, error) {
	if nc.eof {
		return 0, io.EOF
	}
	ctx, cancel := nc.opContext(&nc.readDeadline)
	defer cancel()
	for {
		if nc.r == nil {
			typ, r, err := nc.c.Reader(ctx)
			if err != nil {
				return 0, nc.streamError(ctx, err)
			}
			if typ != nc.typ {
				nc.c.fail(protocolError(StatusUnsupportedData, "expected %v messages, got %v", nc.typ, typ))
				return 0, nc.c.cause()
			}
			nc.r = r
		}
		n, err := nc.r.Read(p)
		if err == io.EOF {
			nc.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		if err != nil {
			return n, nc.streamError(ctx, err)
		}
		return n, nil
	}
}

func (nc *netConn) Write(p []byte) (int, error) {
	ctx, cancel := nc.opContext(&nc.writeDeadline)
	defer cancel()
	if err := nc.c.Write(ctx, nc.typ, p); err != nil {
		return 0, nc.streamError(ctx, err)
	}
	return len(p), nil
}

// streamError maps the end of the stream to what net.Conn users expect.
func (nc *netConn) streamError(ctx context.Context, err error) error {
	if CloseStatus(err) == StatusNormalClosure {
		nc.eof = true
		return io.EOF
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &net.OpError{Op: "websocket", Net: "websocket", Err: os.ErrDeadlineExceeded}
	}
	return err
}

// opContext returns a context bounded by the deadline in *d.
func (nc *netConn) opContext(d *time.Time) (context.Context, context.CancelFunc) {
	nc.mu.Lock()
	deadline := *d
	nc.mu.Unlock()
	if deadline.IsZero() {
		return nc.ctx, func() {}
	}
	return context.WithDeadline(nc.ctx, deadline)
}

func (nc *netConn) Close() error { return nc.c.Close(StatusNormalClosure, "") }

func (nc *netConn) LocalAddr() net.Addr  { return addrOr(nc.c.LocalAddr()) }
func (nc *netConn) RemoteAddr() net.Addr { return addrOr(nc.c.RemoteAddr()) }

func (nc *netConn) SetDeadline(t time.Time) error {
	nc.mu.Lock()
	nc.readDeadline, nc.writeDeadline = t, t
	nc.mu.Unlock()
	return nil
}

func (nc *netConn) SetReadDeadline(t time.Time) error {
	nc.mu.Lock()
	nc.readDeadline = t
	nc.mu.Unlock()
	return nil
}

func (nc *netConn) SetWriteDeadline(t time.Time) error {
	nc.mu.Lock()
	nc.writeDeadline = t
	nc.mu.Unlock()
	return nil
}

// websocketAddr stands in when the connection has no network address.
type websocketAddr struct{}

func (websocketAddr) Network() string { return "websocket" }
func (websocketAddr) String() string  { return "websocket" }

func addrOr(a net.Addr) net.Addr {
	if a == nil {
		return websocketAddr{}
	}
	return a
}
