package load

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/starling-ws/starling/bench/echo"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Quantile(c.q)
		// Buckets are 1/32 of an octave wide: the lower bound is within 3.2 %.
		if got > c.want || float64(got) < float64(c.want)*0.968 {
			t.Errorf("Quantile(%v) = %v, want within 3.2%% below %v", c.q, got, c.want)
		}
	}
	if h.Count() != 1000 {
		t.Errorf("Count = %d, want 1000", h.Count())
	}
}

func TestBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for ns := uint64(0); ns < 1<<20; ns = ns*9/8 + 1 {
		b := bucket(ns)
		if b < prev || low(b) > ns {
			t.Fatalf("bucket(%d) = %d (low %d) after bucket %d", ns, b, low(b), prev)
		}
		prev = b
	}
}

// sink keeps TestProcessCPUAndRSS's computation from being optimised away.
var sink uint64

func TestProcessCPUAndRSS(t *testing.T) {
	cpu, err := ProcessCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Fatalf("ProcessCPU = %v, %v", cpu, err)
	}
	// Work in user mode, then in the kernel, until each has been charged
	// at least one clock tick: each must show in its own time.
	user0, sys0, err := ProcessCPUTimes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	user, sys := user0, sys0
	for x := uint64(1); user == user0 && time.Now().Before(deadline); {
		for range 1 << 20 {
			x = x*31 + 7
		}
		user, _, _ = ProcessCPUTimes(os.Getpid())
		sink = x
	}
	for sys == sys0 && time.Now().Before(deadline) {
		for range 1000 {
			syscall.Getppid()
		}
		_, sys, _ = ProcessCPUTimes(os.Getpid())
	}
	if user <= user0 || sys <= sys0 {
		t.Fatalf("user %.2f s → %.2f s, system %.2f s → %.2f s: computing or making system calls was not counted", user0, user, sys0, sys)
	}
	rss, err := ProcessRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("ProcessRSS = %d, %v; want at least 1 MiB for a Go test binary", rss, err)
	}
}

// TestRun loads a real echo server briefly and checks that round trips
// were counted and timed.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	go echo.Serve(ctx, "gobwas", "127.0.0.1:0", func(a net.Addr) { addrc <- a.String() })
	addr := <-addrc
	for _, w := range []int{1, 4} {
		r, err := Run(ctx, Config{Addr: addr, Conns: 3, Size: 100, Window: w,
			Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond, ServerPID: os.Getpid(),
			SourceIPs: []net.IP{net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3)}})
		if err != nil {
			t.Fatalf("window %d: %v", w, err)
		}
		if r.Msgs == 0 || r.MsgsPerSec <= 0 || r.P50us <= 0 || r.P99us < r.P50us {
			t.Errorf("window %d: implausible result %+v", w, r)
		}
	}
}

// TestRunNeedsConnections checks that a run without connections is an
// error, not a panic or an empty result.
func TestRunNeedsConnections(t *testing.T) {
	_, err := Run(context.Background(), Config{Addr: "127.0.0.1:1", Conns: 0, Duration: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Fatalf("Run with 0 connections: %v, want an error saying at least one is needed", err)
	}
}

// TestPipelineLatencyFromSend checks that with a window a message's round
// trip is timed from when it is sent, not from when the writer began to
// wait for room in the window. Against a server that answers one message
// every delay, one at a time, window 2 keeps each message 2 delays in
// flight (Little's law: window / msgs per second); timed from the wait,
// a round trip would include the delay the writer waited too, 3 in all.
func TestPipelineLatencyFromSend(t *testing.T) {
	const delay = 5 * time.Millisecond
	addr := delayedEcho(t, func(int) time.Duration { return delay })
	const window = 2
	r, err := Run(context.Background(), Config{Addr: addr, Conns: 1, Size: 16, Window: window,
		Warmup: 30 * time.Millisecond, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	inFlight := window / r.MsgsPerSec * 1e6 // µs
	if r.Msgs < 10 || r.P50us > 1.25*inFlight {
		t.Errorf("%d msgs, %.0f msgs/s: p50 %.0f µs, want about %.0f µs (window / msgs per second)", r.Msgs, r.MsgsPerSec, r.P50us, inFlight)
	}
}

// TestSlowestShare checks that a server which keeps one connection waiting
// while it answers another at once is reported as unfair, and one that
// answers both alike is not.
func TestSlowestShare(t *testing.T) {
	for _, tc := range []struct {
		name     string
		delay    func(conn int) time.Duration
		min, max float64
	}{
		{"fair", func(int) time.Duration { return time.Millisecond }, 0.5, 1},
		{"unfair", func(conn int) time.Duration { return time.Duration(conn) * 20 * time.Millisecond }, 0, 0.2},
	} {
		addr := delayedEcho(t, tc.delay)
		r, err := Run(context.Background(), Config{Addr: addr, Conns: 2, Size: 16, Window: 1,
			Warmup: 30 * time.Millisecond, Duration: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.SlowestShare < tc.min || r.SlowestShare > tc.max {
			t.Errorf("%s server: slowest connection's share %.3f (%d msgs), want %.1f to %.1f", tc.name, r.SlowestShare, r.Msgs, tc.min, tc.max)
		}
	}
}

// delayedEcho starts a WebSocket echo server that answers one message at a
// time per connection, each after delay(n) for the n-th connection it
// accepted (from 0), and returns its address.
func delayedEcho(t *testing.T, delay func(conn int) time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 0; ; n++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := ws.Upgrade(nc); err != nil {
					return
				}
				for {
					h, err := ws.ReadHeader(nc)
					if err != nil {
						return
					}
					p := make([]byte, h.Length)
					if _, err := io.ReadFull(nc, p); err != nil {
						return
					}
					ws.Cipher(p, h.Mask, 0)
					time.Sleep(delay(n))
					if err := ws.WriteFrame(nc, ws.NewFrame(h.OpCode, true, p)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
