package starling

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// cancelAtHeadEnd is a server-side connection that cancels a context as it
// hands over the end of the request head, and holds back any deadline in
// the past until release is closed, so that the context's interruption
// lands after whatever the server does next.
type cancelAtHeadEnd struct {
	net.Conn
	cancel  context.CancelFunc
	seen    []byte
	release chan struct{}
	applied chan struct{}
	once    sync.Once
}

func (c *cancelAtHeadEnd) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.seen = append(c.seen, p[:n]...)
	if bytes.Contains(c.seen, []byte("\r\n\r\n")) {
		c.cancel()
	}
	return n, err
}

func (c *cancelAtHeadEnd) SetDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		<-c.release
		defer c.once.Do(func() { close(c.applied) })
	}
	return c.Conn.SetDeadline(t)
}

// TestReadHandshakeContextEndsWithRequest checks a context that ends just
// as the request is read: either ReadHandshake reports the context's end
// and closes the connection, or the connection it hands over works. The
// interruption of the context must not land later, on the accepted
// connection, as a deadline in the past that fails its reads.
func TestReadHandshakeContextEndsWithRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(testTimeout))
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc := &cancelAtHeadEnd{Conn: raw, cancel: cancel, release: make(chan struct{}), applied: make(chan struct{})}
	defer func() {
		select {
		case <-nc.release:
		default:
			close(nc.release)
		}
	}()

	if _, err := io.WriteString(client, handshakeRequest("GET / HTTP/1.1")); err != nil {
		t.Fatal(err)
	}
	hs, err := ReadHandshake(ctx, nc)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadHandshake: %v, want nil or context.Canceled", err)
		}
		if n, err := client.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("after ReadHandshake failed: read %d, %v; want the connection closed", n, err)
		}
		return
	}
	c, err := hs.Accept(nil)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	defer c.CloseNow()
	close(nc.release)
	select {
	case <-nc.applied:
	case <-time.After(100 * time.Millisecond):
		// No deadline in the past was pending: nothing to land late.
	}
	if _, err := client.Write(earlyFrame()); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), testTimeout)
	defer rcancel()
	if typ, data, err := c.Read(rctx); err != nil || typ != MessageText || string(data) != "early bird" {
		t.Fatalf("the accepted connection: Read = %v %q %v; the end of ReadHandshake's context reached it", typ, data, err)
	}
}
