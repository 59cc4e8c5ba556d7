package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// 100 goroutines write 10,000 messages at once: every done is called
// exactly once, with nil, and the server receives every message, each
// goroutine's in the order it wrote them.
func TestConcurrentWrites(t *testing.T) {
	const writers, each = 100, 100
	received := make(chan []string, 1)
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		var got []string
		for len(got) < writers*each {
			_, b, err := c.Read(bg)
			if err != nil {
				break
			}
			got = append(got, string(b))
		}
		received <- got
		c.Close(starling.StatusNormalClosure, "")
	})
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})

	var calls [writers][each]atomic.Int32
	var failed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				err := cl.WriteString(fmt.Sprintf("%d:%d", g, i), func(err error) {
					if err != nil {
						failed.Add(1)
					}
					calls[g][i].Add(1)
				})
				if err != nil {
					t.Errorf("write %d:%d: %v", g, i, err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	got := recv(t, received)
	if len(got) != writers*each {
		t.Fatalf("server received %d messages, want %d", len(got), writers*each)
	}
	next := make([]int, writers)
	for _, s := range got {
		var g, i int
		if _, err := fmt.Sscanf(s, "%d:%d", &g, &i); err != nil {
			t.Fatalf("bad message %q", s)
		}
		if i != next[g] {
			t.Fatalf("writer %d: message %d arrived when %d was next", g, i, next[g])
		}
		next[g]++
	}
	rec.expect(t, client.Disconnected{Code: starling.StatusNormalClosure})
	// Disconnected comes after every done has been called.
	for g := range writers {
		for i := range each {
			if n := calls[g][i].Load(); n != 1 {
				t.Fatalf("done of %d:%d called %d times", g, i, n)
			}
		}
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d writes failed", n)
	}
}

// A server that does not read: the queue fills, a write fails at once
// with ErrQueueFull, and on disconnect every pending done is called once
// with an error.
func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url := newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		<-release
	})
	const bound, size = 64 << 10, 16 << 10
	cl := client.New(url, &client.Options{MaxQueuedBytes: bound})
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})

	var mu sync.Mutex
	calls := map[int]int{}
	errs := map[int]error{}
	msg := make([]byte, size)
	accepted := 0
	var err error
	// The kernel's socket buffers take some megabytes first.
	for i := 0; i < 100000; i++ {
		err = cl.WriteData(msg, func(err error) {
			mu.Lock()
			calls[i]++
			errs[i] = err
			mu.Unlock()
		})
		if err != nil {
			break
		}
		accepted++
	}
	if !errors.Is(err, client.ErrQueueFull) {
		t.Fatalf("write %d: %v, want ErrQueueFull", accepted, err)
	}
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})
	mu.Lock()
	defer mu.Unlock()
	for i := range accepted {
		if calls[i] != 1 {
			t.Fatalf("done of write %d called %d times", i, calls[i])
		}
	}
}

// stuckConn is a connection whose writes block, once stuck, until it is
// closed: a peer that stopped reading, without the kernel's buffers.
type stuckConn struct {
	net.Conn
	stuck   atomic.Bool
	blocked chan struct{} // receives when a write blocks
	closed  chan struct{}
	once    sync.Once
}

func newStuckConn(nc net.Conn) *stuckConn {
	return &stuckConn{Conn: nc, blocked: make(chan struct{}, 1), closed: make(chan struct{})}
}

// stuckDialer dials TCP and hands each connection, wrapped as a stuckConn,
// to the test through conns.
func stuckDialer(conns chan<- *stuckConn) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc := newStuckConn(nc)
		conns <- sc
		return sc, nil
	}
}

// connectStuckable connects a client with opts to an echo server through
// a connection the test can make stuck, and returns it with the client
// and its recorder once Connected has come.
func connectStuckable(t *testing.T, opts *client.Options) (*client.Client, *recorder, *stuckConn) {
	t.Helper()
	conns := make(chan *stuckConn, 2)
	opts.NetDialContext = stuckDialer(conns)
	cl := client.New(newServer(t, nil, echo), opts)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	return cl, rec, recv(t, conns)
}

func (s *stuckConn) Write(p []byte) (int, error) {
	if s.stuck.Load() {
		select {
		case s.blocked <- struct{}{}:
		default:
		}
		<-s.closed
		return 0, net.ErrClosed
	}
	return s.Conn.Write(p)
}

func (s *stuckConn) Close() error {
	s.once.Do(func() { close(s.closed) })
	return s.Conn.Close()
}

// Writes queue behind a write that cannot finish; past the bound they fail
// at once; when the connection is dropped, every pending done is called
// exactly once with an error.
func TestPendingWritesFail(t *testing.T) {
	const bound = 1000
	cl, rec, sc := connectStuckable(t, &client.Options{MaxQueuedBytes: bound})
	sc.stuck.Store(true)

	const n = 10
	var calls [n]atomic.Int32
	errs := make(chan error, n)
	for i := range n {
		must(t, cl.WriteData(make([]byte, bound/n), func(err error) {
			calls[i].Add(1)
			errs <- err
		}))
	}
	if err := cl.WriteData([]byte{1}, nil); !errors.Is(err, client.ErrQueueFull) {
		t.Fatalf("write past the bound = %v, want ErrQueueFull", err)
	}
	recv(t, sc.blocked) // the first write is on its way
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})
	disconnected := 0
	for range n {
		err := recv(t, errs)
		if err == nil {
			t.Fatal("a write that could not finish reported success")
		}
		if errors.Is(err, client.ErrDisconnected) {
			disconnected++
		}
	}
	// All but the one being written never left the queue.
	if disconnected != n-1 {
		t.Errorf("%d writes failed with ErrDisconnected, want %d", disconnected, n-1)
	}
	for i := range n {
		if c := calls[i].Load(); c != 1 {
			t.Errorf("done of write %d called %d times", i, c)
		}
	}
}

// Buffered counts what is queued, the write in progress included, until
// it is written or fails.
func TestBuffered(t *testing.T) {
	cl, rec, sc := connectStuckable(t, &client.Options{})

	done := make(chan error, 3)
	must(t, cl.WriteString("written", func(err error) { done <- err }))
	must(t, recv(t, done))
	if got := cl.Buffered(); got != 0 {
		t.Fatalf("Buffered after the write finished = %d, want 0", got)
	}
	rec.expect(t, client.Text{Data: "written"}) // the server's echo
	sc.stuck.Store(true)
	for _, size := range []int{100, 200, 300} {
		must(t, cl.WriteData(make([]byte, size), func(err error) { done <- err }))
	}
	recv(t, sc.blocked) // the first is being written, and still counts
	if got := cl.Buffered(); got != 600 {
		t.Fatalf("Buffered with 600 bytes queued = %d", got)
	}
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})
	for range 3 {
		if recv(t, done) == nil {
			t.Fatal("a write that could not finish reported success")
		}
	}
	if got := cl.Buffered(); got != 0 {
		t.Fatalf("Buffered after every write failed = %d, want 0", got)
	}
}

func TestWriteValidation(t *testing.T) {
	cl := client.New("ws://127.0.0.1:1", nil)
	if err := cl.WriteString("x", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("write before Connect = %v, want ErrNotConnected", err)
	}
	if err := cl.WriteString("\xff", nil); !errors.Is(err, starling.ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8 = %v, want ErrInvalidUTF8", err)
	}
	if err := cl.WritePing(make([]byte, 126), nil); !errors.Is(err, starling.ErrControlTooLong) {
		t.Errorf("126-byte ping = %v, want ErrControlTooLong", err)
	}
}

// A program that writes each message once the previous one is written, as
// one waiting for acknowledgements does, must never find its write stuck
// in the queue: each write wakes the writer, however the writer's idle
// moments fall between them.
func TestWriteAfterEachDone(t *testing.T) {
	url := newServer(t, nil, echo)
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	// The writer's idle moment that a write can fall into is short: it
	// takes thousands of writes to meet it.
	const n = 20000
	done := make(chan error)
	for i := range n {
		must(t, cl.WriteString(fmt.Sprint(i), func(err error) { done <- err }))
		if err := recv(t, done); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i := range n {
		rec.expect(t, client.Text{Data: fmt.Sprint(i)})
	}
}

// One message larger than MaxQueuedBytes is still accepted when nothing
// else is queued, as Options documents, but not behind another write.
func TestWriteLargerThanBound(t *testing.T) {
	const bound = 1000
	cl, rec, sc := connectStuckable(t, &client.Options{MaxQueuedBytes: bound})

	big := strings.Repeat("x", 3*bound)
	done := make(chan error, 1)
	must(t, cl.WriteString(big, func(err error) { done <- err }))
	must(t, recv(t, done))
	rec.expect(t, client.Text{Data: big})

	// Even one byte queued is something.
	sc.stuck.Store(true)
	must(t, cl.WriteString("x", nil))
	recv(t, sc.blocked)
	if err := cl.WriteString(big, nil); !errors.Is(err, client.ErrQueueFull) {
		t.Errorf("write larger than the bound behind another = %v, want ErrQueueFull", err)
	}
}

// A ping or pong may carry up to 125 bytes (RFC 6455 section 5.5): the
// longest goes out whole, and one byte more is refused at once.
func TestControlPayloadLimit(t *testing.T) {
	pongs := make(chan []byte, 1)
	url := newServer(t, &starling.AcceptOptions{OnPong: func(p []byte) { pongs <- bytes.Clone(p) }}, echo)
	cl := client.New(url, nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})

	longest := bytes.Repeat([]byte{'p'}, 125)
	must(t, cl.WritePing(longest, nil))
	rec.expect(t, client.Pong{Data: longest}) // the server's answer
	must(t, cl.WritePong(longest, nil))
	if got := recv(t, pongs); !bytes.Equal(got, longest) {
		t.Errorf("server received a pong of %d bytes, want 125", len(got))
	}

	tooLong := append(longest, 'p')
	if err := cl.WritePing(tooLong, nil); !errors.Is(err, starling.ErrControlTooLong) {
		t.Errorf("126-byte ping = %v, want ErrControlTooLong", err)
	}
	if err := cl.WritePong(tooLong, nil); !errors.Is(err, starling.ErrControlTooLong) {
		t.Errorf("126-byte pong = %v, want ErrControlTooLong", err)
	}
}

// The writes that failed when a connection ended are gone: connecting
// again sends none of them, and calls none of their dones a second time.
func TestConnectAgainAfterFailedWrites(t *testing.T) {
	cl, rec, sc := connectStuckable(t, &client.Options{})
	sc.stuck.Store(true)
	var calls atomic.Int32
	for _, s := range []string{"stuck", "stale-1", "stale-2"} {
		must(t, cl.WriteString(s, func(error) { calls.Add(1) }))
	}
	recv(t, sc.blocked)
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})

	cl.Connect()
	rec.expect(t, client.Connected{})
	must(t, cl.WriteString("fresh", nil))
	rec.expect(t, client.Text{Data: "fresh"})
	if n := calls.Load(); n != 3 {
		t.Errorf("dones of the 3 failed writes called %d times in all", n)
	}
}

// The done of the write in progress when the connection ends has returned
// before the attempt's last event, however long it takes: a receiver that
// sees the connection over sees every write settled.
func TestDoneBeforeLastEvent(t *testing.T) {
	cl, rec, sc := connectStuckable(t, &client.Options{})
	sc.stuck.Store(true)
	var settled atomic.Bool
	must(t, cl.WriteString("stuck", func(error) {
		time.Sleep(100 * time.Millisecond)
		settled.Store(true)
	}))
	recv(t, sc.blocked)
	cl.ForceDisconnect()
	rec.expect(t, client.Cancelled{})
	if !settled.Load() {
		t.Error("Cancelled delivered before the done of the write in progress returned")
	}
}
