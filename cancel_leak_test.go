package starling

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestCanceledCallsLeaveNothing makes 10,000 Reads and Pings whose
// contexts end, before the call or while it waits, over loopback TCP, and
// checks that none leaves a goroutine, a context registration or a timer
// behind: the goroutine count and the heap after them must be what they
// were after the first thousand. The connection must stay usable.
func TestCanceledCallsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 20,000 calls")
	}
	c, p := newPair(t, clientRole, tcpTransport) // the peer answers no ping
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	calls := func(n int) {
		for i := range n {
			ctx, cancel := ended, context.CancelFunc(func() {})
			if i%2 == 1 {
				ctx, cancel = context.WithTimeout(context.Background(), 20*time.Microsecond)
			}
			_, _, err := c.Read(ctx)
			cancel()
			if !errors.Is(err, ctx.Err()) {
				t.Fatalf("Read %d = %v, want %v", i, err, ctx.Err())
			}
			if err := pingCanceledWaiting(c); err != nil {
				t.Fatalf("Ping %d: %v", i, err)
			}
			if f, err := p.next(); err != nil || f.op != 0x9 {
				t.Fatalf("peer got op %#x, %v; want the ping", f.op, err)
			}
		}
	}
	calls(1000)
	before := heapAndGoroutines()
	calls(10000)
	after := heapAndGoroutines()
	t.Logf("before: %d goroutines, %d B heap; after: %d goroutines, %d B heap", before.g, before.heap, after.g, after.heap)
	if after.g > before.g {
		t.Errorf("goroutines grew from %d to %d over 10,000 canceled calls", before.g, after.g)
	}
	if after.heap > before.heap+64<<10 {
		t.Errorf("heap grew from %d to %d bytes over 10,000 canceled calls", before.heap, after.heap)
	}

	// The connection is still open both ways.
	go p.send(rawFrame{fin: true, op: 0x1, payload: []byte("still here")})
	if _, got, err := c.Read(dialCtx(t)); err != nil || string(got) != "still here" {
		t.Fatalf("Read after the canceled calls: %q, %v", got, err)
	}
	if err := c.Write(dialCtx(t), MessageText, []byte("me too")); err != nil {
		t.Fatal(err)
	}
	if f, err := p.next(); err != nil || string(f.payload) != "me too" {
		t.Fatalf("peer got %q, %v", f.payload, err)
	}
}

// pingCanceledWaiting sends a Ping whose context is canceled once the
// ping has left and the Ping waits for its pong. (A Ping whose context
// ends before it has written closes the connection, as Write does.)
func pingCanceledWaiting(c *Conn) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Ping(ctx)
		done <- err
	}()
	for !pingWaiting(c) {
		select {
		case err := <-done:
			return fmt.Errorf("returned before its ping left: %v", err)
		default:
			runtime.Gosched()
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		return fmt.Errorf("got %v, want context.Canceled", err)
	}
	return nil
}

// pingWaiting reports whether a Ping waits for its pong, its write over.
func pingWaiting(c *Conn) bool {
	c.closeMu.Lock()
	n := 0
	if c.pings != nil {
		n = len(c.pings.waiting)
	}
	c.closeMu.Unlock()
	return n > 0 && !c.frameMu.held.Load()
}

type memCount struct {
	g    int
	heap uint64
}

func heapAndGoroutines() memCount {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memCount{runtime.NumGoroutine(), ms.HeapAlloc}
}
