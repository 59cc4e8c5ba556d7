// Package bench is the load generator behind "starling bench": it keeps a
// window of messages in flight on each of several connections to an echo
// endpoint and measures the round trip of every message.
package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-ws/starling"
)

// Config describes one run.
type Config struct {
	URL         string
	Dial        *starling.DialOptions
	Connections int                  // default 1
	Size        int                  // payload bytes per message
	Type        starling.MessageType // default binary
	Window      int                  // messages in flight per connection; default 1
	// Count, if positive, is the total number of round trips across all
	// connections; otherwise the run lasts Duration.
	Count    int64
	Duration time.Duration
	// DialTimeout bounds each handshake. Default: 10s.
	DialTimeout time.Duration
	// Progress, if set, is called about four times a second during the run.
	Progress func(Progress)
}

// Progress is a snapshot of a run in progress.
type Progress struct {
	Elapsed  time.Duration
	Messages int64
	Errors   int64
}

// Result is the outcome of a run.
type Result struct {
	Connections int           // connections that completed the handshake
	Elapsed     time.Duration // from the first send to the last echo, or to the end if none came
	Messages    int64         // round trips completed
	Bytes       int64         // payload bytes echoed back
	Errors      int64
	ErrorSample []string // the first few distinct errors
	Latency     *Histogram
}

// drainGrace is how long one echo may take before it counts as lost, also
// after the last send.
const drainGrace = 5 * time.Second

// errLost is the error of an echo not back within drainGrace.
var errLost = fmt.Errorf("no echo within %v", drainGrace)

// maxErrorSample bounds Result.ErrorSample.
const maxErrorSample = 5

// run is the state shared by the workers of one Run.
type run struct {
	cfg       Config
	start     time.Time    // of the first send
	lastEcho  atomic.Int64 // time of the last echo, in nanoseconds since start
	remaining atomic.Int64 // round trips still to start, in Count mode
	messages  atomic.Int64
	errors    atomic.Int64
	errMu     sync.Mutex
	errSample []string
}

// Run dials every connection, then sends until Count round trips have
// started or Duration has passed, waits for the echoes, and closes each
// connection with 1000. It fails only if no connection could be opened.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.Connections = max(cfg.Connections, 1)
	cfg.Window = max(cfg.Window, 1)
	if cfg.Type == 0 {
		cfg.Type = starling.MessageBinary
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	r := &run{cfg: cfg}
	r.remaining.Store(cfg.Count)

	conns, err := r.dialAll(ctx)
	if len(conns) == 0 {
		return nil, err
	}
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Count <= 0 {
		stopCtx, stop = context.WithTimeout(ctx, cfg.Duration)
		defer stop()
	}
	r.start = time.Now()
	hists := make([]*Histogram, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		hists[i] = new(Histogram)
		wg.Go(func() { r.work(stopCtx, c, hists[i]) })
	}
	stopProgress := r.reportProgress(r.start)
	wg.Wait()
	stopProgress()
	// The close handshakes, and the wait for an echo that never came,
	// are not part of the run: rates are of the echoes' span.
	elapsed := time.Since(r.start)
	if r.messages.Load() > 0 {
		elapsed = time.Duration(r.lastEcho.Load())
	}

	res := &Result{
		Connections: len(conns),
		Elapsed:     elapsed,
		Messages:    r.messages.Load(),
		Errors:      r.errors.Load(),
		ErrorSample: r.errSample,
		Latency:     new(Histogram),
	}
	res.Bytes = res.Messages * int64(cfg.Size)
	for _, h := range hists {
		res.Latency.Merge(h)
	}
	return res, nil
}

// dialAll opens the connections concurrently; a failed dial counts as an
// error, and the first one is returned if none succeeded.
func (r *run) dialAll(ctx context.Context) ([]*starling.Conn, error) {
	conns := make([]*starling.Conn, r.cfg.Connections)
	errs := make([]error, r.cfg.Connections)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
			defer cancel()
			conns[i], _, errs[i] = starling.Dial(dctx, r.cfg.URL, r.cfg.Dial)
		})
	}
	wg.Wait()
	var ok []*starling.Conn
	var first error
	for i, c := range conns {
		if errs[i] != nil {
			r.fail(errs[i])
			if first == nil {
				first = errs[i]
			}
			continue
		}
		ok = append(ok, c)
	}
	// Only the first: the others are most often the same refusal,
	// and the command prints the error as one line.
	return ok, first
}

func (r *run) fail(err error) {
	r.errors.Add(1)
	r.errMu.Lock()
	defer r.errMu.Unlock()
	msg := err.Error()
	for _, s := range r.errSample {
		if s == msg {
			return
		}
	}
	if len(r.errSample) < maxErrorSample {
		r.errSample = append(r.errSample, msg)
	}
}

// echoed counts a round trip and moves the time of the last echo on.
func (r *run) echoed() {
	now := int64(time.Since(r.start))
	for {
		last := r.lastEcho.Load()
		if now <= last || r.lastEcho.CompareAndSwap(last, now) {
			break
		}
	}
	r.messages.Add(1)
}

// reserve reports whether another round trip may start.
func (r *run) reserve(stop context.Context) bool {
	if stop.Err() != nil {
		return false
	}
	return r.cfg.Count <= 0 || r.remaining.Add(-1) >= 0
}

// reportProgress calls Progress until the returned function is called,
// which returns once the last call has.
func (r *run) reportProgress(start time.Time) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.cfg.Progress(Progress{time.Since(start), r.messages.Load(), r.errors.Load()})
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// work drives one connection. A writer sends while fewer than Window
// messages are in flight, holding a token of window for each and queueing
// its send time; the reader takes one echo per queued time, in order,
// since an echo server answers in order, and then returns the token.
func (r *run) work(stop context.Context, c *starling.Conn, h *Histogram) {
	defer c.CloseNow()
	// The tokens, not the queue of times, bound the messages in flight:
	// the reader has taken a time out of the queue while it waits for
	// that echo.
	window := make(chan struct{}, r.cfg.Window)
	inflight := make(chan time.Time, r.cfg.Window)
	writeErr := make(chan error, 1)
	go func() {
		defer close(inflight)
		writeErr <- r.send(stop, c, window, inflight)
	}()
	// An echo that is not back within drainGrace is lost, during the run
	// and after its last send alike: with Count, no stop would end the
	// wait for it.
	readCtx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	lost := time.AfterFunc(drainGrace, func() { cancel(errLost) })
	defer lost.Stop()
	var seq uint64
	for sent := range inflight {
		lost.Reset(drainGrace)
		typ, p, err := c.Read(readCtx)
		<-window
		if err != nil {
			if context.Cause(readCtx) == errLost {
				err = errLost // the read was given up, not failed
			}
			r.fail(fmt.Errorf("read: %w", err))
			_ = c.CloseNow()
			for range inflight {
				<-window
			}
			<-writeErr
			return
		}
		h.Record(time.Since(sent))
		r.echoed()
		if err := check(typ, p, r.cfg, seq); err != nil {
			r.fail(err)
		}
		seq++
	}
	if err := <-writeErr; err != nil {
		r.fail(fmt.Errorf("write: %w", err))
		return
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		r.fail(err)
	}
}

// send writes messages until reserve says stop or a write fails. Each
// message waits for a token of window, and only then takes its send time,
// so that waiting for room in the window does not count as latency.
func (r *run) send(stop context.Context, c *starling.Conn, window chan<- struct{}, inflight chan<- time.Time) error {
	p := make([]byte, r.cfg.Size)
	fill(p, r.cfg.Type)
	ctx := context.Background() // ending a write halfway would kill the connection
	for seq := uint64(0); r.reserve(stop); seq++ {
		select {
		case window <- struct{}{}:
		case <-stop.Done():
			return nil
		}
		inflight <- time.Now() // never blocks: it has room for every token
		stamp(p, r.cfg.Type, seq)
		if err := c.Write(ctx, r.cfg.Type, p); err != nil {
			return err
		}
	}
	return nil
}
