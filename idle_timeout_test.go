package starling

import (
	"context"
	"testing"
	"time"
)

// TestIdleTimeoutCountsEveryFrame has the peer send pings only, and then
// trickle a large message a few bytes at a time, each more often than the
// idle timeout but for much longer in all: something keeps arriving, so
// the connection stays open, and the message arrives whole. Then Close
// runs its handshake as usual.
func TestIdleTimeoutCountsEveryFrame(t *testing.T) {
	const idle = 200 * time.Millisecond
	c, p := newServerPair(t, tcpTransport, connConfig{idleTimeout: idle})
	msg := randomBytes(40, 3)
	wire := encodeFrame(rawFrame{fin: true, op: 0x2, payload: msg}, true, [4]byte{9, 8, 7, 6})
	go func() {
		for range 8 {
			time.Sleep(idle / 2)
			if p.send(rawFrame{fin: true, op: 0x9, payload: []byte("beat")}) != nil {
				return
			}
		}
		for len(wire) > 0 {
			time.Sleep(idle / 2)
			k := min(len(wire), 3)
			if p.write(wire[:k]) != nil {
				return
			}
			wire = wire[k:]
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, got, err := c.Read(ctx)
	if err != nil || string(got) != string(msg) {
		t.Fatalf("Read = %x, %v; want the trickled message", got, err)
	}
	for range 8 {
		if f, err := p.next(); err != nil || f.op != 0xA {
			t.Fatalf("peer got op %#x, %v; want a pong", f.op, err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close(StatusNormalClosure, "") }()
	if f, err := p.next(); err != nil || f.op != 0x8 {
		t.Fatalf("peer got op %#x, %v; want the close frame", f.op, err)
	}
	p.sendClose(1000, "")
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}
