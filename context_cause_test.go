package starling_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// errStopped is the cause the tests give context.WithCancelCause.
var errStopped = errors.New("stopped by the test")

// checkCtxError fails the test unless err has both the context's error
// and the cause it was canceled with in its chain: code that checks for
// context.Canceled and code that checks for its own cause must both find
// what they look for, wherever the call was when the context ended.
func checkCtxError(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errStopped) {
		t.Errorf("%s = %v; want both context.Canceled and the cause in the chain (Canceled %v, cause %v)",
			what, err, errors.Is(err, context.Canceled), errors.Is(err, errStopped))
	}
}

// canceledLater returns a context canceled with errStopped after d.
func canceledLater(d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(d, func() { cancel(errStopped) })
	return ctx, func() { timer.Stop(); cancel(nil) }
}

// TestContextCauseAtEveryPoint ends the context of each blocking call
// with a cause, at each point where the call can be waiting, over
// loopback TCP, and checks the error the call returns.
func TestContextCauseAtEveryPoint(t *testing.T) {
	checkGoroutines(t)
	hold := make(chan struct{})
	defer close(hold)
	url := serve(t, nil, func(c *starling.Conn) {
		// Reads nothing until the test ends: pings go unanswered and,
		// once the socket buffers fill, writes wait.
		defer c.CloseNow()
		<-hold
	})
	dial := func() *starling.Conn {
		c, _, err := starling.Dial(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}

	ended, cancel := context.WithCancelCause(context.Background())
	cancel(errStopped)
	c := dial()
	_, _, err := c.Read(ended)
	checkCtxError(t, "Read under an ended context", err)
	_, err = c.Ping(ended)
	checkCtxError(t, "Ping under an ended context", err)

	ctx, stop := canceledLater(50 * time.Millisecond)
	_, _, err = c.Read(ctx)
	stop()
	checkCtxError(t, "Read waiting for a message", err)

	// A writer stuck on a peer that does not read holds the locks: the
	// next writers wait for them.
	c = dial()
	stuck := make(chan error, 1)
	go func() { stuck <- c.Write(context.Background(), starling.MessageBinary, make([]byte, 64<<20)) }()
	for c.Stats().BytesWritten == 0 { // the one frame has begun: the locks are held
		time.Sleep(time.Millisecond)
	}
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"Write", func(ctx context.Context) error { return c.Write(ctx, starling.MessageText, []byte("x")) }},
		{"Writer", func(ctx context.Context) error { _, err := c.Writer(ctx, starling.MessageText); return err }},
		{"Ping", func(ctx context.Context) error { _, err := c.Ping(ctx); return err }},
		{"WritePing", func(ctx context.Context) error { return c.WritePing(ctx, nil) }},
	} {
		ctx, stop := canceledLater(50 * time.Millisecond)
		err := call.do(ctx)
		stop()
		checkCtxError(t, call.name+" waiting for the write lock", err)
	}
	c.CloseNow()
	if err := <-stuck; err == nil {
		t.Error("the stuck Write succeeded")
	}
}

// TestPingContextCause ends a Ping's context with a cause while it waits
// for a pong that does not come.
func TestPingContextCause(t *testing.T) {
	checkGoroutines(t)
	hold := make(chan struct{})
	defer close(hold)
	url := serve(t, nil, func(c *starling.Conn) {
		defer c.CloseNow()
		<-hold // reads nothing, so no pong comes
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx, stop := canceledLater(50 * time.Millisecond)
	defer stop()
	_, err = c.Ping(ctx)
	checkCtxError(t, "Ping waiting for its pong", err)
}

// TestContextCauseMidMessage ends a Reader's context with a cause partway
// through a message: the read reports the context's error and the cause;
// every later call reports the connection closed, naming the cause, but
// with neither it nor the context's error in its chain: they are not
// theirs, and a loop that goes on after a timeout would never stop.
func TestContextCauseMidMessage(t *testing.T) {
	checkGoroutines(t)
	url := serve(t, nil, func(c *starling.Conn) {
		defer c.CloseNow()
		w, err := c.Writer(context.Background(), starling.MessageBinary)
		if err != nil {
			return
		}
		w.Write(make([]byte, 100<<10)) // sends the first fragments only
		c.Read(context.Background())
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx, stop := canceledLater(100 * time.Millisecond)
	defer stop()
	_, r, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, r)
	checkCtxError(t, "Reader's Read partway through a message", err)
	_, _, err = c.Read(context.Background())
	checkClosedWithCause(t, "Read after the connection closed", err)
	err = c.Write(context.Background(), starling.MessageText, []byte("x"))
	checkClosedWithCause(t, "Write after the connection closed", err)
}

// checkClosedWithCause checks the error of a call made after another
// call's context, ended with errStopped, closed the connection.
func checkClosedWithCause(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, starling.ErrClosed) || errors.Is(err, errStopped) || errors.Is(err, context.Canceled) ||
		!strings.Contains(fmt.Sprint(err), errStopped.Error()) {
		t.Errorf("%s = %v; want ErrClosed naming the cause, with neither the cause nor context.Canceled in the chain", what, err)
	}
}

// TestDialAndReadHandshakeContextCause ends, with a cause, the context of
// a Dial whose server never answers and of a ReadHandshake whose client
// never sends its request: both are documented to return ctx's error.
func TestDialAndReadHandshakeContextCause(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	handshook := make(chan error, 1)
	go func() {
		nc, err := ln.Accept() // the dial's: never answered
		if err != nil {
			handshook <- err
			return
		}
		defer nc.Close()
		nc2, err := ln.Accept() // the silent client's
		if err != nil {
			handshook <- err
			return
		}
		ctx, stop := canceledLater(50 * time.Millisecond)
		defer stop()
		_, err = starling.ReadHandshake(ctx, nc2)
		handshook <- err
	}()

	ctx, stop := canceledLater(50 * time.Millisecond)
	defer stop()
	_, _, err = starling.Dial(ctx, "ws://"+ln.Addr().String(), nil)
	checkCtxError(t, "Dial", err)

	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	checkCtxError(t, "ReadHandshake", <-handshook)
}
