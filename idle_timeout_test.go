package starling

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestIdleTimeoutDespitePollingReads has a reader poll for messages with
// a context much shorter than the idle timeout, as doc.go suggests ("a
// loop may read with a timeout and do something else"), while the peer
// sends nothing at all. A read cut short by its context is no frame
// arriving: the idle timeout must still end the connection with 1001.
func TestIdleTimeoutDespitePollingReads(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tr := range bothTransports {
		t.Run(string(tr), func(t *testing.T) {
			c, p := newServerPair(t, tr, connConfig{idleTimeout: idle})
			stop := time.Now().Add(20 * idle)
			var err error
			for time.Now().Before(stop) {
				ctx, cancel := context.WithTimeout(context.Background(), idle/4)
				_, _, err = c.Read(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					break
				}
			}
			if got := CloseStatus(err); got != StatusGoingAway {
				t.Fatalf("after %v of silence with an idle timeout of %v, Read = %v; want 1001", 20*idle, idle, err)
			}
			p.expectClose(StatusGoingAway)
		})
	}
}

// TestIdleTimeoutPollingWithActivePeer polls as the test above does, while
// the peer sends a message more often than the idle timeout: the reads cut
// short between messages hold the idle deadline, but each message moves it
// on, so the connection stays open and every message is read.
func TestIdleTimeoutPollingWithActivePeer(t *testing.T) {
	const idle = 200 * time.Millisecond
	c, p := newServerPair(t, tcpTransport, connConfig{idleTimeout: idle})
	const n = 12
	go func() {
		for i := range n {
			time.Sleep(idle / 2)
			if p.send(rawFrame{fin: true, op: 0x2, payload: []byte{byte(i)}}) != nil {
				return
			}
		}
	}()
	for got := 0; got < n; {
		ctx, cancel := context.WithTimeout(context.Background(), idle/8)
		_, msg, err := c.Read(ctx)
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
		case err != nil:
			t.Fatalf("Read after %d messages: %v; want the peer's messages, %v apart, to keep the connection open", got, err, idle/2)
		case len(msg) != 1 || int(msg[0]) != got:
			t.Fatalf("message %d = %v", got, msg)
		default:
			got++
		}
	}
}

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
