//go:build linux && !386

package starling_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestBlockingSocket checks connections whose socket something else made
// blocking, as (*net.TCPConn).File and then os.File's Fd do to every
// descriptor of the socket. Messages still flow, a read still ends with
// its context and a write with the write timeout: reads and writes that
// waited in the kernel would wait until the peer sent or read.
func TestBlockingSocket(t *testing.T) {
	done := make(chan struct{})
	url := serve(t, nil, func(c *starling.Conn) {
		// Echo "echo" and wait for the client to go; after any other
		// message, read no more.
		defer c.CloseNow()
		typ, p, err := c.Read(context.Background())
		if err != nil || string(p) != "echo" {
			<-done
			return
		}
		c.Write(context.Background(), typ, p)
		c.Read(context.Background())
	})
	t.Cleanup(func() { close(done) })

	c := dialBlocking(t, url)
	within(t, "an echo", func() error {
		if err := c.Write(context.Background(), starling.MessageText, []byte("echo")); err != nil {
			return err
		}
		if _, p, err := c.Read(context.Background()); err != nil || string(p) != "echo" {
			return fmt.Errorf("read %q, %v", p, err)
		}
		return nil
	})
	within(t, "a read of nothing, with a context that ends", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("got %v, want context.DeadlineExceeded", err)
		}
		return nil
	})

	c = dialBlocking(t, url)
	within(t, "writes to a peer that does not read", func() error {
		msg := make([]byte, 1<<20)
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = c.Write(context.Background(), starling.MessageBinary, msg)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("got %v, want a deadline error", err)
		}
		return nil
	})
}

// dialBlocking dials url with a write timeout of 200 ms, and makes the
// connection's socket blocking as os.File's Fd does.
func dialBlocking(t *testing.T, url string) *starling.Conn {
	t.Helper()
	var nc net.Conn
	opts := &starling.DialOptions{
		WriteTimeout: 200 * time.Millisecond,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var err error
			nc, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return nc, err
		},
	}
	c, _, err := starling.Dial(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	f, err := nc.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	f.Fd() // makes the socket blocking, the connection's descriptor too
	f.Close()
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	rc.Control(func(fd uintptr) { flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0) })
	if flags&syscall.O_NONBLOCK != 0 {
		t.Fatal("the socket is still non-blocking: the test would test nothing")
	}
	return c
}

// within runs f and fails the test if f fails or has not returned after
// ten seconds: then it is waiting where it should not.
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting after 10 s", what)
	}
}
