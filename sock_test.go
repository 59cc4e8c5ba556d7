package starling_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestWriteErrorIsNetError checks the error of a write to a peer that has
// gone: on a TCP socket writes bypass net.Conn's Write (send.go), and
// their errors must still be what it returns, a *net.OpError around the
// system call's error.
func TestWriteErrorIsNetError(t *testing.T) {
	accepted := make(chan *starling.Conn, 1)
	url := serve(t, nil, func(c *starling.Conn) { accepted <- c })
	client, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	client.CloseNow()
	msg := make([]byte, 64<<10)
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		werr = c.Write(context.Background(), starling.MessageBinary, msg)
	}
	var oe *net.OpError
	if !errors.As(werr, &oe) || oe.Op != "write" || oe.Addr == nil {
		t.Fatalf("write to a closed peer: %v; want a *net.OpError of a write", werr)
	}
	if !errors.Is(werr, syscall.EPIPE) && !errors.Is(werr, syscall.ECONNRESET) {
		t.Fatalf("write to a closed peer: %v; want EPIPE or ECONNRESET", werr)
	}
	if got := starling.CloseStatus(werr); got != starling.StatusAbnormalClosure {
		t.Fatalf("close status %v, want 1006", got)
	}
}

// TestWriteDeadlineClearedAfterWait checks the write timeout of a socket,
// armed only once a write has to wait (sendvOnce): a write that waited for
// a slow reader and then finished must leave no deadline behind to fail a
// later write.
func TestWriteDeadlineClearedAfterWait(t *testing.T) {
	const timeout = 2 * time.Second // long enough for a slow (-race) reader of 32 MiB
	wrote := make(chan error, 2)
	url := serve(t, &starling.AcceptOptions{WriteTimeout: timeout}, func(c *starling.Conn) {
		// Larger than the loopback socket's buffers: the write waits
		// until the client reads.
		start := time.Now()
		err := c.Write(context.Background(), starling.MessageBinary, make([]byte, 32<<20))
		if err == nil && time.Since(start) < 100*time.Millisecond {
			err = fmt.Errorf("the large write took %v: it did not wait for the reader", time.Since(start))
		}
		wrote <- err
		time.Sleep(timeout) // past a deadline the large write would have left
		wrote <- c.Write(context.Background(), starling.MessageText, []byte("later"))
	})
	client, _, err := starling.Dial(context.Background(), url, &starling.DialOptions{ReadLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	time.Sleep(150 * time.Millisecond) // the server's write waits meanwhile
	if _, p, err := client.Read(context.Background()); err != nil || len(p) != 32<<20 {
		t.Fatalf("read %d bytes, %v", len(p), err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("large write: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write after a write that waited: %v", err)
	}
	if _, p, err := client.Read(context.Background()); err != nil || string(p) != "later" {
		t.Fatalf("read %q, %v", p, err)
	}
}

// TestUnixSocket runs a connection over a Unix socket, the other transport
// read and written with bare system calls (sock.go): messages from 16 B to
// 4 MiB (larger than the socket's buffer, so writes wait) are echoed
// intact, and the close handshake completes.
func TestUnixSocket(t *testing.T) {
	checkGoroutines(t)
	path := filepath.Join(t.TempDir(), "ws.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		hs, err := starling.ReadHandshake(context.Background(), nc)
		if err != nil {
			done <- err
			return
		}
		c, err := hs.Accept(&starling.AcceptOptions{InsecureSkipOriginCheck: true})
		if err != nil {
			done <- err
			return
		}
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				if starling.CloseStatus(err) == starling.StatusNormalClosure {
					err = nil
				}
				done <- err
				return
			}
			if err := c.Write(context.Background(), typ, p); err != nil {
				done <- err
				return
			}
		}
	}()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	c, _, err := starling.Dial(context.Background(), "ws://unix.invalid/", &starling.DialOptions{NetDialContext: dial})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{16, 64 << 10, 4 << 20} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		if err := c.Write(context.Background(), starling.MessageBinary, msg); err != nil {
			t.Fatalf("write %d B: %v", size, err)
		}
		typ, p, err := c.Read(context.Background())
		if err != nil || typ != starling.MessageBinary || !bytes.Equal(p, msg) {
			t.Fatalf("echo of %d B: type %v, %d B, %v", size, typ, len(p), err)
		}
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}
