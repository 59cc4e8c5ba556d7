package starling_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestIdleConnectionCost holds many server connections open, each with a
// goroutine waiting in ReadAppend, and checks what each costs. The
// goroutine must keep the smallest stack Go gives (2 KiB) until its first
// message, and 4 KiB after (Go shrinks a stack only when under a quarter of
// it is in use, which a goroutine parked in the poller never is); the heap
// must hold no buffer per connection. It measures in a process of its own,
// where no other test's goroutines or garbage blur the counts.
func TestIdleConnectionCost(t *testing.T) {
	if raceEnabled {
		t.Skip("-race enlarges every stack frame; .ci/run runs this test without -race")
	}
	if os.Getenv("STARLING_IDLE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnectionCost$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "STARLING_IDLE_CHILD=1")
		out, err := cmd.CombinedOutput()
		t.Logf("measured in a child process:\n%s", out)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return
	}
	const n = 400
	var parked sync.WaitGroup
	// A server of its own on a raw listener, so that no goroutine of
	// net/http's comes and goes and muddles the stack count.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			hs, err := starling.ReadHandshake(context.Background(), nc)
			if err != nil {
				continue
			}
			c, err := hs.Accept(nil)
			if err != nil {
				continue
			}
			parked.Add(1)
			go echoUntilClosed(c, &parked)
		}
	}()

	before := idleMemStats()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = rawUpgrade(t, ln.Addr().String())
		defer conns[i].Close()
	}
	fresh := settle(t, &parked, before, n)
	t.Logf("never used: %v", fresh)

	msg := maskedText("hello, idle world")
	for _, nc := range conns {
		if _, err := nc.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	reply := make([]byte, 2+len("hello, idle world"))
	for _, nc := range conns {
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := readFull(nc, reply); err != nil {
			t.Fatal(err)
		}
	}
	used := settle(t, &parked, before, n)
	t.Logf("after one echo: %v", used)

	// A burst of pipelined 16 KiB messages makes each reader borrow a
	// large read buffer and each writer batch its echoes: both must be
	// given back once the connection is idle again.
	const burst, size = 8, 16 << 10
	frames := make([]byte, 0, burst*(8+size))
	for range burst {
		frames = append(frames, 0x82, 0x80|126, size>>8, size&0xff, 0, 0, 0, 0)
		frames = append(frames, make([]byte, size)...)
	}
	echoes := make([]byte, burst*(4+size))
	for _, nc := range conns {
		if _, err := nc.Write(frames); err != nil {
			t.Fatal(err)
		}
		if _, err := readFull(nc, echoes); err != nil {
			t.Fatal(err)
		}
	}
	bursty := settle(t, &parked, before, n)
	t.Logf("after a burst of %d × %d B: %v", burst, size, bursty)

	// Stacks come in powers of two, counted by 32 KiB span: a few
	// spans of other goroutines' stacks add some 100 bytes per connection,
	// so the checks draw the line halfway to the next size.
	if fresh.stack > 3072 {
		t.Errorf("stack per never used connection is %d bytes, want the 2 KiB minimum", fresh.stack)
	}
	// The echo's read and write, pool misses included (the connections
	// borrow their read buffers at once), fit in the 2 KiB stack too, so
	// a connection that has had traffic costs no more than a new one: a
	// stack once grown to 4 KiB would stay so while parked in a read.
	if used.stack > 3072 {
		t.Errorf("stack per connection idle after a message is %d bytes, want the 2 KiB minimum", used.stack)
	}
	// Read allocates each 16 KiB message, and the allocator's own frames
	// can take the stack to 4 KiB.
	if bursty.stack > 6144 {
		t.Errorf("stack per connection idle after a burst is %d bytes, want at most 4 KiB", bursty.stack)
	}
	// The heap holds the Conn, its goroutine's descriptor and the two
	// ends' sockets (about 2 KiB in all): no read buffer (512 bytes) may
	// stay behind.
	for _, m := range []idleCost{fresh, used, bursty} {
		if m.heap > 2560 {
			t.Errorf("heap per idle connection is %d bytes, want under 2.5 KiB", m.heap)
		}
	}
}

// idleCost is memory per connection, in bytes.
type idleCost struct{ stack, heap int64 }

func (m idleCost) String() string {
	return fmt.Sprintf("stack %d B, heap %d B per connection", m.stack, m.heap)
}

func idleMemStats() runtime.MemStats {
	// Two cycles: stacks shrink by half at most once per collection.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// settle waits until every server goroutine has started reading and gone
// idle, then measures the cost per connection against before.
func settle(t *testing.T, parked *sync.WaitGroup, before runtime.MemStats, n int) idleCost {
	t.Helper()
	parked.Wait()
	time.Sleep(100 * time.Millisecond) // let the last readers reach the poller
	ms := idleMemStats()
	return idleCost{
		stack: int64(ms.StackInuse-before.StackInuse) / int64(n),
		heap:  (int64(ms.HeapAlloc) - int64(before.HeapAlloc)) / int64(n),
	}
}

// echoUntilClosed echoes messages; it marks itself done in parked before
// each read, so the test knows when all readers are waiting.
func echoUntilClosed(c *starling.Conn, parked *sync.WaitGroup) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		parked.Done()
		typ, p, err := c.ReadAppend(ctx, buf[:0])
		parked.Add(1)
		if err != nil {
			parked.Done()
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
		// Keep a small buffer only, so that the heap measured after a
		// burst of large messages is the library's, not this handler's.
		buf = nil
		if cap(p) <= 1024 {
			buf = p
		}
	}
}

// rawUpgrade opens a WebSocket connection with a hand-written handshake, so
// that the client side holds no Conn and the process's memory growth is the
// server's.
func rawUpgrade(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	// Read the response byte by byte, so nothing past it is consumed.
	br := bufio.NewReaderSize(nc, 16)
	var resp strings.Builder
	for !strings.HasSuffix(resp.String(), "\r\n\r\n") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		resp.WriteByte(b)
	}
	if !strings.HasPrefix(resp.String(), "HTTP/1.1 101 ") {
		t.Fatalf("handshake: %q", resp.String())
	}
	return nc
}

// maskedText is a client text frame carrying s, masked with a zero key.
func maskedText(s string) []byte {
	return append([]byte{0x81, 0x80 | byte(len(s)), 0, 0, 0, 0}, s...)
}

func readFull(nc net.Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := nc.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
