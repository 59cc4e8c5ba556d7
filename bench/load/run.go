package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one echo run.
type Config struct {
	Addr     string        // host:port of the echo server
	Conns    int           // connections
	Size     int           // message payload bytes
	Window   int           // messages in flight per connection (1: strict ping-pong)
	Warmup   time.Duration // load before measuring starts
	Duration time.Duration // measured time
	// ServerPID, if not 0, is the echo server's process, whose CPU time
	// over the measured time is reported.
	ServerPID int
	// SourceIPs, if not empty, are the local addresses connections are
	// spread over, so that many connections do not run out of ports.
	SourceIPs []net.IP
}

// Result is what one run measured.
type Result struct {
	Msgs          uint64  `json:"msgs"`           // round trips completed in the measured time
	Seconds       float64 `json:"seconds"`        // measured wall time
	MsgsPerSec    float64 `json:"msgs_per_sec"`   // Msgs / Seconds
	ServerCPU     float64 `json:"server_cpu"`     // server CPU seconds (user+system) in the measured time
	ServerSysCPU  float64 `json:"server_sys_cpu"` // the part of ServerCPU spent in the kernel (system mode)
	MsgsPerCPUSec float64 `json:"msgs_per_cpu_s"` // Msgs / ServerCPU
	P50us         float64 `json:"p50_us"`         // median round trip, microseconds
	P99us         float64 `json:"p99_us"`         // 99th percentile round trip, microseconds
	// SlowestShare is the round trips of the connection that completed
	// the fewest, over the mean per connection: 1 when the server served
	// every connection alike, near 0 when some waited while others were
	// served. (With a fixed number of messages in flight, throughput
	// fixes the mean round trip, so a low median at the same throughput
	// means an unfair server: this and P99us show it.)
	SlowestShare float64 `json:"slowest_share"`
}

// Run opens the connections, loads the server for Warmup+Duration and
// reports the measured part.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Window < 1 {
		cfg.Window = 1
	}
	if cfg.Conns < 1 {
		return Result{}, fmt.Errorf("load: %d connections: at least one is needed", cfg.Conns)
	}
	conns, err := DialMany(ctx, cfg.Addr, cfg.Conns, cfg.Size, cfg.SourceIPs)
	if err != nil {
		return Result{}, err
	}
	var (
		measuring atomic.Bool
		done      = make(chan struct{})
		wg        sync.WaitGroup
		hists     = make([]Histogram, len(conns))
		errs      = make([]error, len(conns))
	)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.Window == 1 {
				errs[i] = pingPong(c, &hists[i], &measuring, done)
			} else {
				errs[i] = pipeline(c, cfg.Window, &hists[i], &measuring, done)
			}
		}()
	}
	sleep(ctx, cfg.Warmup)
	user0, sys0, err := serverCPU(cfg.ServerPID)
	start := time.Now()
	measuring.Store(true)
	sleep(ctx, cfg.Duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	user1, sys1, err1 := serverCPU(cfg.ServerPID)
	close(done)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	if err = errors.Join(err, err1, ctx.Err()); err != nil {
		return Result{}, err
	}
	var h Histogram
	fewest := hists[0].Count()
	for i := range hists {
		h.Merge(&hists[i])
		fewest = min(fewest, hists[i].Count())
	}
	for _, e := range errs {
		if e != nil {
			return Result{}, fmt.Errorf("load: connection failed during the run: %w", e)
		}
	}
	r := Result{
		Msgs:         h.Count(),
		Seconds:      elapsed.Seconds(),
		ServerCPU:    (user1 + sys1) - (user0 + sys0),
		ServerSysCPU: sys1 - sys0,
		P50us:        float64(h.Quantile(0.50)) / 1e3,
		P99us:        float64(h.Quantile(0.99)) / 1e3,
	}
	r.MsgsPerSec = float64(r.Msgs) / r.Seconds
	if r.Msgs > 0 {
		r.SlowestShare = float64(fewest) * float64(len(hists)) / float64(r.Msgs)
	}
	if r.ServerCPU > 0 {
		r.MsgsPerCPUSec = float64(r.Msgs) / r.ServerCPU
	}
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// DialMany opens n connections, a few at a time, spread over ips.
func DialMany(ctx context.Context, addr string, n, size int, ips []net.IP) ([]*Conn, error) {
	conns := make([]*Conn, n)
	err := DialEach(n, ips, func(i int, ip net.IP) (err error) {
		conns[i], err = Dial(ctx, addr, ip, size)
		return err
	})
	if err != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, fmt.Errorf("load: dial: %w", err)
	}
	return conns, nil
}

// DialEach calls dial for connections 0 to n-1, 64 at a time, each with
// its source address taken in turn from ips (nil if there are none), and
// returns their errors joined.
func DialEach(n int, ips []net.IP, dial func(i int, ip net.IP) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		var ip net.IP
		if len(ips) > 0 {
			ip = ips[i%len(ips)]
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = dial(i, ip)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stopped reports whether err came from closing the connection at the end
// of the run rather than from a failure.
func stopped(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// pingPong sends one message and waits for its echo, over and over.
func pingPong(c *Conn, h *Histogram, measuring *atomic.Bool, done chan struct{}) error {
	for {
		t := time.Now()
		err := c.Send()
		if err == nil {
			err = c.Receive()
		}
		if err != nil {
			if stopped(done) {
				return nil
			}
			return err
		}
		if measuring.Load() {
			h.Record(time.Since(t))
		}
	}
}

// pipeline keeps window messages in flight: a writer sends whenever fewer
// are outstanding, and the reader matches each echo with the oldest send
// time (the server echoes in order). The writer takes a slot in the
// window before it reads the clock: a select evaluates its send values
// on entry, so sending time.Now() on a full channel would time the
// message from when the writer began to wait, not from when it was sent.
func pipeline(c *Conn, window int, h *Histogram, measuring *atomic.Bool, done chan struct{}) error {
	slots := make(chan struct{}, window)
	sent := make(chan time.Time, window) // never full: one entry per slot taken
	werr := make(chan error, 1)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case slots <- struct{}{}:
			case <-done:
				werr <- nil
				return
			case <-quit:
				werr <- nil
				return
			}
			sent <- time.Now()
			if err := c.Send(); err != nil {
				if stopped(done) {
					err = nil
				}
				werr <- err
				return
			}
		}
	}()
	for {
		if err := c.Receive(); err != nil {
			close(quit)
			c.Close()
			if stopped(done) {
				err = nil
			}
			return errors.Join(err, <-werr)
		}
		t := <-sent
		<-slots
		if measuring.Load() {
			h.Record(time.Since(t))
		}
	}
}
