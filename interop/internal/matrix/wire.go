package matrix

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
)

// wire counts the bytes a connection carries on the network, after any
// compression and including framing, so cells can tell whether a side
// really compressed.
type wire struct {
	read, written atomic.Int64
}

// snapshot returns the counts so far.
func (w *wire) snapshot() (read, written int64) { return w.read.Load(), w.written.Load() }

type countingConn struct {
	net.Conn
	w *wire
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.written.Add(int64(n))
	return n, err
}

// countingDial is a DialOptions.NetDialContext that counts into w.
func countingDial(w *wire) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{c, w}, nil
	}
}

// countingListener gives each accepted connection its own wire.
type countingListener struct{ net.Listener }

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{c, new(wire)}, nil
}

type wireKey struct{}

// withWire is an http.Server.ConnContext that makes the connection's wire
// available to handlers through wireOf.
func withWire(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*countingConn); ok {
		return context.WithValue(ctx, wireKey{}, cc.w)
	}
	return ctx
}

func wireOf(ctx context.Context) *wire {
	w, _ := ctx.Value(wireKey{}).(*wire)
	if w == nil {
		w = new(wire)
	}
	return w
}
