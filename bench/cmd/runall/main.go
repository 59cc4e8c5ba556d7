// Command runall runs the cross-library benchmark: every echo server
// against the same load generator, interleaved, several runs each, and
// writes RESULTS.md (and the raw runs as results.json).
//
// Run it from the bench directory:
//
//	go run ./cmd/runall                 # full matrix, ~20-25 minutes on 2 cores
//	go run ./cmd/runall -matrix quick   # 1 and 100 connections, small sizes
//	go run ./cmd/runall -matrix smoke -runs 1 -duration 100ms -idle 200 -out /tmp/r.md -raw ""
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/starling-ws/starling/bench/load"
)

type options struct {
	runs     int
	warmup   time.Duration
	duration time.Duration
	impls    []string
	idleImpl []string
	matrix   string
	idle     int
	idleRuns int
	bcast    int
	micro    string
	out      string
	raw      string
}

// run is one measurement of one implementation in one scenario.
type run struct {
	Scenario scenario    `json:"scenario"`
	Impl     string      `json:"impl"`
	Run      int         `json:"run"`
	Result   load.Result `json:"result"`
	Err      string      `json:"error,omitempty"`
}

// idleResult is one idle-connection measurement.
type idleResult struct {
	Impl  string `json:"impl"`
	Conns int    `json:"conns"`
	// Echoed is set when each connection echoed one message before it
	// idled (loadgen -echo).
	Echoed bool  `json:"echoed,omitempty"`
	Base   int64 `json:"base_rss"`
	Held   int64 `json:"held_rss"`
	// SettledBase and Settled are Base and Held once the server has
	// collected its garbage and returned free memory to the operating
	// system (echoserver's SIGUSR1).
	SettledBase int64  `json:"settled_base_rss"`
	Settled     int64  `json:"settled_rss"`
	Err         string `json:"error,omitempty"`
}

func main() {
	var o options
	impls := flag.String("impls", "starling,gorilla,coder,gobwas,gws,nbio,floor,floor-epoll", "implementations, comma-separated; the first is the one compared; floor and floor-epoll are yardsticks, never counted as anchors")
	flag.IntVar(&o.runs, "runs", 5, "runs per implementation and scenario (the median is reported)")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "load before each measurement")
	flag.DurationVar(&o.duration, "duration", time.Second, "measured time of each run")
	flag.StringVar(&o.matrix, "matrix", "full", "scenarios: full; quick (1 and 100 connections × 16 B, 1 KiB, 16 KiB); smoke (two small ones, for CI); or a list such as 1x16384x16,100x1024x1 (connections x size x window)")
	flag.IntVar(&o.idle, "idle", 10000, "idle connections per server for the memory test (0 skips it)")
	idleImpls := flag.String("idleimpls", "starling,gorilla,coder,gobwas,gws,nbio,starling-raw,gobwas-raw", "implementations for the idle-memory test; the -raw ones upgrade without net/http (starling with ReadHandshake), to show what net/http itself keeps per connection")
	flag.IntVar(&o.idleRuns, "idleruns", 3, "idle-memory runs per implementation")
	flag.IntVar(&o.bcast, "broadcast", 10000, "connections for the broadcast test (0 skips it)")
	flag.StringVar(&o.micro, "micro", "200ms", "benchtime of the micro-benchmarks (client cost, masking, deflate, frame, UTF-8), run -runs times; empty skips them")
	flag.StringVar(&o.out, "out", "RESULTS.md", "report to write")
	flag.StringVar(&o.raw, "raw", "results.json", "raw runs to write (empty: none)")
	budget := flag.String("budget", "", "measure nothing: print, from the raw runs in this file (as -raw writes), the user-space CPU time per message the echo target leaves in each scenario")
	flag.Parse()
	o.impls = strings.Split(*impls, ",")
	o.idleImpl = strings.Split(*idleImpls, ",")
	log.SetFlags(log.Ltime)
	log.SetPrefix("runall: ")
	if *budget != "" {
		if err := writeBudgetFile(os.Stdout, *budget, o.impls); err != nil {
			log.Fatal(err)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin, err := os.MkdirTemp("", "starling-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(bin)
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/echoserver", "./cmd/loadgen")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("build (run runall from the bench directory): %v", err)
	}
	pin := choosePinning()
	rep := newReport(o, pin)
	start := time.Now()
	for i, sc := range matrix(o.matrix) {
		if ctx.Err() != nil {
			break
		}
		log.Printf("scenario %d: %v", i+1, sc)
		rep.runs = append(rep.runs, runScenario(ctx, bin, pin, sc, o)...)
		rep.scenarios = append(rep.scenarios, sc)
		rep.elapsed = time.Since(start)
		rep.write()
	}
	for r := 0; r < o.idleRuns && o.idle > 0 && ctx.Err() == nil; r++ {
		for _, impl := range rotate(o.idleImpl, r) {
			for _, echoed := range []bool{false, true} {
				log.Printf("idle: %s, %d connections, echoed %v", impl, o.idle, echoed)
				ir, err := idleRSS(bin, pin, impl, o.idle, echoed)
				if err != nil {
					ir.Err = err.Error()
					log.Printf("idle %s: %v", impl, err)
				}
				rep.idle = append(rep.idle, ir)
			}
		}
	}
	if o.bcast > 0 && ctx.Err() == nil {
		log.Printf("broadcast: %d connections", o.bcast)
		s, err := broadcastSection(ctx, bin, pin, o.bcast, o.runs)
		rep.sections = append(rep.sections, s)
		if err != nil {
			rep.failed = append(rep.failed, "- broadcast: "+err.Error())
		}
		rep.write()
	}
	if o.micro != "" && ctx.Err() == nil {
		log.Printf("micro-benchmarks: -benchtime %s, %d rounds", o.micro, o.runs)
		s, err := microSection(ctx, o.micro, o.runs)
		rep.sections = append(rep.sections, s)
		if err != nil {
			rep.failed = append(rep.failed, "- micro-benchmarks: "+err.Error())
		}
	}
	rep.elapsed = time.Since(start)
	rep.write()
	log.Printf("done in %v; wrote %s", rep.elapsed.Round(time.Second), o.out)
}

// choosePinning puts the server on the last CPU and the load generator on
// the others, when taskset exists and there is more than one CPU.
func choosePinning() pinning {
	n := runtime.NumCPU()
	ts, err := exec.LookPath("taskset")
	if err != nil || n < 2 {
		log.Printf("not pinning: taskset %v, %d CPUs", err, n)
		return pinning{}
	}
	client := "0"
	if n > 2 {
		client = fmt.Sprintf("0-%d", n-2)
	}
	return pinning{taskset: ts, server: fmt.Sprint(n - 1), client: client}
}

// rotate returns impls starting at index r, so that no implementation
// always runs first (or right after the same neighbour).
func rotate(impls []string, r int) []string {
	r %= len(impls)
	return append(append([]string{}, impls[r:]...), impls[:r]...)
}

// runScenario starts every server, then runs the load generator against
// each in turn, o.runs times, in a different order each time.
func runScenario(ctx context.Context, bin string, pin pinning, sc scenario, o options) []run {
	servers := map[string]*server{}
	var out []run
	for _, impl := range o.impls {
		s, err := startServer(bin, pin, impl)
		if err != nil {
			log.Print(err)
			out = append(out, run{Scenario: sc, Impl: impl, Err: err.Error()})
			continue
		}
		servers[impl] = s
		defer s.stop()
	}
	for r := 0; r < o.runs && ctx.Err() == nil; r++ {
		for _, impl := range rotate(o.impls, r) {
			s := servers[impl]
			if s == nil {
				continue
			}
			res, err := runLoad(ctx, bin, pin, s, sc, o)
			rr := run{Scenario: sc, Impl: impl, Run: r, Result: res}
			if err != nil {
				rr.Err = err.Error()
				log.Printf("%s %v run %d: %v", impl, sc, r, err)
			}
			out = append(out, rr)
			// Let the server finish closing the connections before the
			// next one is measured on the same CPU.
			time.Sleep(150 * time.Millisecond)
		}
	}
	return out
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
