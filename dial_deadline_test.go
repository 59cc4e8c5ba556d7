package starling_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestDialConnOutlivesContext checks that Dial's context bounds the
// handshake only: once it has ended, the connection it returned still
// reads and writes, with no deadline left behind on the socket.
func TestDialConnOutlivesContext(t *testing.T) {
	srv := httptest.NewServer(echoHandler(nil))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	<-ctx.Done() // the deadline has passed
	bg := context.Background()
	if err := c.Write(bg, starling.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(bg); err != nil || string(p) != "still here" {
		t.Fatalf("echo = %q, %v", p, err)
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// lateDone is a context whose deadline is reached before its Done channel
// closes, as happens when the socket's deadline timer fires before the
// context's own timer.
type lateDone struct {
	context.Context
	deadline time.Time
}

func (c lateDone) Deadline() (time.Time, bool) { return c.deadline, true }

// oneAnswerServer accepts one connection, reads the handshake request and
// answers with answer (nothing if empty). It reports on closed when the
// client has closed the connection.
func oneAnswerServer(t *testing.T, answer string) (url string, closed chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	closed = make(chan struct{}, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(nc, answer)
		if _, err := io.Copy(io.Discard, br); err == nil {
			closed <- struct{}{}
		}
	}()
	return "ws://" + ln.Addr().String() + "/", closed
}

// TestDialDeadlineNoticedBySocketFirst checks that ctx's deadline bounds
// the handshake through the socket itself and that, when the socket's
// deadline ends the handshake before ctx's timer does, Dial still reports
// context.DeadlineExceeded.
func TestDialDeadlineNoticedBySocketFirst(t *testing.T) {
	url, _ := oneAnswerServer(t, "")
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Should the deadline not apply to the socket, end the wait with
	// another error than the one wanted.
	stop := time.AfterFunc(5*time.Second, cancel)
	defer stop.Stop()
	ctx := lateDone{base, time.Now().Add(100 * time.Millisecond)}
	_, _, err := starling.Dial(ctx, url, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial error %v, want one wrapping context.DeadlineExceeded", err)
	}
}

// TestDialRefusalClosesConn checks that a refused handshake does not
// leave the connection to the server open.
func TestDialRefusalClosesConn(t *testing.T) {
	url, closed := oneAnswerServer(t, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
	_, _, err := starling.Dial(context.Background(), url, nil)
	var he *starling.HandshakeError
	if !errors.As(err, &he) {
		t.Fatalf("Dial error %v, want a *HandshakeError", err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection is still open after the refusal")
	}
}
