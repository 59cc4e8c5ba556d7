package starling_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

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
