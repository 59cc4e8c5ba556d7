package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/cmd/starling/internal/bench"
)

const benchHelp = `Loads an echo endpoint (such as starling serve's /echo): -c connections each
keep -w messages in flight for -d (or until -n messages in all), then it
reports messages/s, MB/s of payload, round-trip latency p50/p90/p99/max and
errors. A progress line shows on a terminal.
`

type benchConfig struct {
	dial        dialFlags
	connections int
	size        int
	duration    time.Duration
	count       int64
	window      int
	text        bool
	jsonOut     bool
	plot        string
}

func benchCmd(ctx context.Context, args []string, s stdio) error {
	var cfg benchConfig
	fs := newFlagSet("bench", "bench [flags] URL", benchHelp, s.out)
	cfg.dial.register(fs)
	fs.IntVar(&cfg.connections, "c", 10, "number of connections")
	fs.IntVar(&cfg.connections, "connections", 10, "same as -c")
	fs.IntVar(&cfg.size, "s", 64, "message size in bytes")
	fs.IntVar(&cfg.size, "size", 64, "same as -s")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "how long to send (ignored with -n)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "same as -d")
	fs.Int64Var(&cfg.count, "n", 0, "send this many messages in all, then stop")
	fs.Int64Var(&cfg.count, "count", 0, "same as -n")
	fs.IntVar(&cfg.window, "w", 1, "messages in flight per connection (pipelining window)")
	fs.IntVar(&cfg.window, "window", 1, "same as -w")
	fs.BoolVar(&cfg.text, "text", false, "send text messages instead of binary")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the report as one JSON object")
	fs.StringVar(&cfg.plot, "plot", "", "write a latency histogram to this `file.svg`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("bench takes one URL, e.g. starling bench ws://127.0.0.1:8080/echo")
	}
	if err := cfg.check(pos[0]); err != nil {
		return err
	}
	opts, err := cfg.dial.options()
	if err != nil {
		return err
	}
	run := bench.Config{
		URL: pos[0], Dial: opts, Connections: cfg.connections, Size: cfg.size,
		Type: starling.MessageBinary, Window: cfg.window, Count: cfg.count,
		Duration: cfg.duration, DialTimeout: cfg.dial.timeout,
	}
	if cfg.text {
		run.Type = starling.MessageText
	}
	live := isTerminal(s.err) && !cfg.jsonOut
	if live {
		run.Progress = func(p bench.Progress) { progressLine(s.err, p) }
	}
	res, err := bench.Run(ctx, run)
	if live {
		fmt.Fprint(s.err, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if cfg.plot != "" {
		if err := writePlot(cfg.plot, res, run); err != nil {
			return err
		}
	}
	if cfg.jsonOut {
		err = json.NewEncoder(s.out).Encode(newBenchReport(run, res))
	} else {
		printBench(s.out, run, res)
	}
	if err == nil && res.Messages == 0 && res.Errors > 0 {
		err = fmt.Errorf("bench: no message came back: %s", res.ErrorSample[0])
	}
	return err
}

func (cfg *benchConfig) check(url string) error {
	switch {
	case cfg.connections < 1:
		return usageErrorf("--connections must be at least 1")
	case cfg.size < 0:
		return usageErrorf("--size must not be negative")
	case cfg.window < 1:
		return usageErrorf("--window must be at least 1")
	case cfg.count < 0:
		return usageErrorf("--count must not be negative")
	case cfg.count == 0 && cfg.duration <= 0:
		return usageErrorf("--duration must be positive")
	case cfg.plot != "" && !strings.EqualFold(filepath.Ext(cfg.plot), ".svg"):
		return usageErrorf("--plot writes SVG; name the file *.svg")
	}
	return checkURL(url)
}

// progressLine rewrites the terminal's last line with the run so far.
func progressLine(w io.Writer, p bench.Progress) {
	rate := float64(p.Messages) / p.Elapsed.Seconds()
	fmt.Fprintf(w, "\r\033[K  %5.1fs  %10d messages  %10.0f msg/s  %d errors", p.Elapsed.Seconds(), p.Messages, rate, p.Errors)
}

// benchReport is the --json form of a result. Latencies are in
// milliseconds, rates per second of the run's elapsed time, and MB are
// 10^6 bytes of payload echoed.
type benchReport struct {
	URL          string             `json:"url"`
	Connections  int                `json:"connections"`
	Window       int                `json:"window"`
	Size         int                `json:"size"`
	Type         string             `json:"type"`
	Seconds      float64            `json:"seconds"`
	Messages     int64              `json:"messages"`
	MessagesPerS float64            `json:"messages_per_s"`
	MBPerS       float64            `json:"mb_per_s"`
	LatencyMS    map[string]float64 `json:"latency_ms"`
	Errors       int64              `json:"errors"`
	ErrorSample  []string           `json:"error_sample,omitempty"`
}

func newBenchReport(cfg bench.Config, res *bench.Result) benchReport {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	secs := res.Elapsed.Seconds()
	h := res.Latency
	return benchReport{
		URL: cfg.URL, Connections: res.Connections, Window: cfg.Window, Size: cfg.Size, Type: cfg.Type.String(),
		Seconds: secs, Messages: res.Messages,
		MessagesPerS: float64(res.Messages) / secs,
		MBPerS:       float64(res.Bytes) / secs / 1e6,
		LatencyMS: map[string]float64{
			"p50": ms(h.Quantile(0.5)), "p90": ms(h.Quantile(0.9)), "p99": ms(h.Quantile(0.99)),
			"max": ms(h.Max()), "mean": ms(h.Mean()),
		},
		Errors: res.Errors, ErrorSample: res.ErrorSample,
	}
}

func printBench(w io.Writer, cfg bench.Config, res *bench.Result) {
	r := newBenchReport(cfg, res)
	h := res.Latency
	fmt.Fprintf(w, "starling bench %s\n", cfg.URL)
	fmt.Fprintf(w, "  connections  %d, window %d, %s\n", r.Connections, r.Window, describe(r.Size, cfg.Type))
	fmt.Fprintf(w, "  duration     %.2fs\n", r.Seconds)
	fmt.Fprintf(w, "  messages     %d round trips, %.1f msg/s\n", r.Messages, r.MessagesPerS)
	fmt.Fprintf(w, "  throughput   %.3f MB/s of payload each way\n", r.MBPerS)
	fmt.Fprintf(w, "  latency      p50 %v  p90 %v  p99 %v  max %v  (mean %v)\n",
		short(h.Quantile(0.5)), short(h.Quantile(0.9)), short(h.Quantile(0.99)), short(h.Max()), short(h.Mean()))
	fmt.Fprintf(w, "  errors       %d\n", r.Errors)
	for _, e := range r.ErrorSample {
		fmt.Fprintf(w, "    %s\n", e)
	}
}

// short rounds a latency to microseconds for reading.
func short(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

func writePlot(name string, res *bench.Result, cfg bench.Config) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s: %d round trips, %d connections, window %d, %s",
		cfg.URL, res.Messages, res.Connections, cfg.Window, describe(cfg.Size, cfg.Type))
	return errors.Join(bench.WriteSVG(f, res.Latency, title), f.Close())
}

// describe names a message type and size for reports.
func describe(size int, typ starling.MessageType) string {
	return fmt.Sprintf("%d-byte %v messages", size, typ)
}
