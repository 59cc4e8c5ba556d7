package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report accumulates results and renders RESULTS.md.
type report struct {
	o         options
	pin       pinning
	date      time.Time
	cpu       string
	load      string
	versions  string
	starling  string
	scenarios []scenario
	runs      []run
	idle      []idleResult
	sections  []string // rendered by broadcastSection and microSection
	failed    []string // what they could not measure
	elapsed   time.Duration
}

func newReport(o options, pin pinning) *report {
	r := &report{o: o, pin: pin, date: time.Now().UTC(), cpu: cpuModel(), load: loadAvg()}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Version}}",
		"github.com/gorilla/websocket", "github.com/coder/websocket", "github.com/gobwas/ws",
		"github.com/lxzan/gws", "github.com/lesismal/nbio").Output()
	if err == nil {
		r.versions = strings.Join(strings.Fields(strings.ReplaceAll(string(out), " ", "@")), ", ")
	}
	r.starling = starlingVersion()
	return r
}

// starlingVersion names the root module's commit, and whether the tree
// measured had uncommitted changes outside bench/.
func starlingVersion() string {
	head, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	v := "commit " + strings.TrimSpace(string(head))
	dirty, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench").Output()
	if err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		v += " plus uncommitted changes in the working tree"
	}
	return v
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// stats are the medians of one implementation's runs in one scenario.
type stats struct {
	ok                          int
	rate, perCPU, p50, p99, cpu float64
	kernel                      float64 // share of the server's CPU time spent in the kernel
	perKernelCPU                float64 // msgs per second of the server's kernel CPU time
	slowest                     float64 // the slowest connection's share of round trips
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	} else {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
}

func (r *report) stats(sc scenario, impl string) stats {
	var rate, perCPU, p50, p99, cpu, kernel, perKernel, slowest []float64
	for _, x := range r.runs {
		if x.Scenario != sc || x.Impl != impl || x.Err != "" {
			continue
		}
		rate = append(rate, x.Result.MsgsPerSec)
		perCPU = append(perCPU, x.Result.MsgsPerCPUSec)
		p50 = append(p50, x.Result.P50us)
		p99 = append(p99, x.Result.P99us)
		slowest = append(slowest, x.Result.SlowestShare)
		cpu = append(cpu, x.Result.ServerCPU/x.Result.Seconds)
		if x.Result.ServerSysCPU > 0 {
			kernel = append(kernel, x.Result.ServerSysCPU/x.Result.ServerCPU)
			perKernel = append(perKernel, float64(x.Result.Msgs)/x.Result.ServerSysCPU)
		}
	}
	return stats{len(rate), median(rate), median(perCPU), median(p50), median(p99), median(cpu), median(kernel), median(perKernel), median(slowest)}
}

// floor names the echo server that does the least work a goroutine-per-
// connection echo can do (bench/echo/floor.go): a yardstick for what the
// machine allows, never an anchor.
const floor = "floor"

// eventLoopFloor names the floor with an epoll event loop in place of a
// goroutine per connection (bench/echo/floorepoll_linux.go): the
// yardstick for designs such as nbio's.
const eventLoopFloor = "floor-epoll"

// yardstick reports whether impl is a yardstick rather than a library.
func yardstick(impl string) bool {
	return impl == floor || impl == eventLoopFloor
}

// best returns the anchor (any implementation but the first and the
// yardsticks) with the highest value of f, and that value.
func (r *report) best(sc scenario, f func(stats) float64) (string, float64) {
	name, v := "", 0.0
	for _, impl := range r.o.impls[1:] {
		if yardstick(impl) {
			continue
		}
		if s := r.stats(sc, impl); s.ok > 0 && f(s) > v {
			name, v = impl, f(s)
		}
	}
	return name, v
}

// target is the echo target: msgs per server CPU-s of at least this many
// times the best anchor's.
const target = 1.2

// runsAtTarget counts the runs of sc in which me's msgs per server CPU-s
// reached target times anchor's in the same run, and the runs both
// completed: medians hide how often a ratio near the target was met.
func (r *report) runsAtTarget(sc scenario, me, anchor string) (met, n int) {
	perCPU := map[string]map[int]float64{me: {}, anchor: {}}
	for _, x := range r.runs {
		if m, ok := perCPU[x.Impl]; ok && x.Scenario == sc && x.Err == "" {
			m[x.Run] = x.Result.MsgsPerCPUSec
		}
	}
	for run, v := range perCPU[me] {
		if a, ok := perCPU[anchor][run]; ok && a > 0 {
			n++
			met += boolInt(v >= target*a)
		}
	}
	return met, n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (r *report) write() {
	var b bytes.Buffer
	me := r.o.impls[0]
	fmt.Fprintf(&b, "# Cross-library WebSocket benchmark\n\n")
	fmt.Fprintf(&b, "Written by `go run ./cmd/runall` (see README.md for how to run and read it).\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", r.date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- CPU: %s, %d logical CPUs; load average at start %s, at the last write %s (the machine is shared with other jobs: expect noise)\n", r.cpu, runtime.NumCPU(), r.load, loadAvg())
	fmt.Fprintf(&b, "- Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- Starling: %s\n", r.starling)
	fmt.Fprintf(&b, "- Anchors: %s\n", r.versions)
	if r.pin.taskset != "" {
		fmt.Fprintf(&b, "- Pinning: server on CPU %s, load generator on CPU %s (taskset); so every server runs with GOMAXPROCS=1\n", r.pin.server, r.pin.client)
	} else {
		fmt.Fprintf(&b, "- Pinning: none (taskset missing or one CPU)\n")
	}
	fmt.Fprintf(&b, "- Each run: %v warm-up, then %v measured; %d runs per implementation and scenario, interleaved (implementations rotate order each run); medians reported\n", r.o.warmup, r.o.duration, r.o.runs)
	fmt.Fprintf(&b, "- Client: one load generator for all servers, gobwas/ws low-level API, one pre-masked frame per connection written as is (no per-message masking or allocation)\n")
	fmt.Fprintf(&b, "- Wall time of this benchmark: %v\n\n", r.elapsed.Round(time.Second))
	if len(r.scenarios) < len(matrix("full")) {
		fmt.Fprintf(&b, "**Partial matrix:** %d of the %d scenarios were run (matrix %q; priority: 1 and 100 connections, 16 B–16 KiB).\n\n", len(r.scenarios), len(matrix("full")), r.o.matrix)
	}
	fmt.Fprintf(&b, "1,000 connections × 1 MiB is not run: a GiB of messages in flight per server measures the kernel and the allocator, not the library.\n\n")

	fmt.Fprintf(&b, "## Headline: %s against the best anchor in each scenario\n\n", me)
	fmt.Fprintf(&b, "Ratios are %s's median over the best anchor's median in the same interleaved run: above 1× is better for msgs/s and msgs per server CPU-second; for p99 the ratio is the best anchor's p99 over %s's (above 1× means %s's slowest round trips are faster). The headline takes p99 rather than p50: every connection keeps the same number of messages in flight, so throughput fixes the mean round trip (Little's law), and a p50 far below the others' at no more throughput means a server that answers some connections at once while others wait (see the slowest connection's share in the per-scenario tables).\n\n", me, me, me)
	withFloor := slices.Contains(r.o.impls, floor)
	withLoop := withFloor && slices.Contains(r.o.impls, eventLoopFloor)
	if withFloor {
		fmt.Fprintf(&b, "The floor columns divide by the floor's msgs per server CPU-s: the floor is an echo that checks nothing and does the least work a goroutine-per-connection server can (bench/echo/floor.go), so the best anchor's ratio to it bounds what any library of that design can gain over that anchor in that scenario.\n\n")
		fmt.Fprintf(&b, "The kernel bound divides the floor's msgs per second of *kernel* CPU time (system time in /proc/PID/stat) by the best anchor's msgs per server CPU-s: a library that spent the floor's kernel time per message and no time at all in user space would reach that ratio. A library can spend less in the kernel than the floor (at 1 MiB, a header and a payload in two write calls cost less than the floor's writev); `runall -budget` takes the least kernel time of any server in the run instead.\n\n")
	}
	if withLoop {
		fmt.Fprintf(&b, "The last column divides %s's msgs per server CPU-s by the floor's: %s is the floor with one epoll event loop in place of a goroutine per connection (bench/echo/floorepoll_linux.go), so above 1× would mean an event-loop design can go further than the floor.\n\n", eventLoopFloor, eventLoopFloor)
	}
	fmt.Fprintf(&b, "The runs column counts the runs in which %s's msgs per server CPU-s reached %.1f× the best anchor's in the same run (each run measures every implementation once, one after another).\n\n", me, target)
	fmt.Fprintf(&b, "| scenario | msgs per server CPU-s | best anchor | runs at %.1f× | msgs/s | best anchor | p99 | best anchor |", target)
	if withFloor {
		fmt.Fprintf(&b, " %s / floor | best anchor / floor | kernel bound / best anchor |", me)
	}
	if withLoop {
		fmt.Fprintf(&b, " %s / floor |", eventLoopFloor)
	}
	fmt.Fprintf(&b, "\n|---|---|---|---|---|---|---|---|%s\n", strings.Repeat("---|", 3*boolInt(withFloor)+boolInt(withLoop)))
	for _, sc := range r.scenarios {
		s := r.stats(sc, me)
		ncpu, vcpu := r.best(sc, func(s stats) float64 { return s.perCPU })
		nrate, vrate := r.best(sc, func(s stats) float64 { return s.rate })
		nlat, vlat := r.best(sc, func(s stats) float64 {
			if s.p99 == 0 {
				return 0
			}
			return 1 / s.p99
		})
		lat := "–"
		if s.p99 > 0 && vlat > 0 {
			lat = fmt.Sprintf("%.2f×", (1/vlat)/s.p99)
		}
		met, n := r.runsAtTarget(sc, me, ncpu)
		fmt.Fprintf(&b, "| %v | **%s** | %s | %d of %d | %s | %s | %s | %s |", sc, ratio(s.perCPU, vcpu), ncpu, met, n, ratio(s.rate, vrate), nrate, lat, nlat)
		if withFloor {
			f := r.stats(sc, floor)
			fmt.Fprintf(&b, " %s | %s | %s |", ratio(s.perCPU, f.perCPU), ratio(vcpu, f.perCPU), ratio(f.perKernelCPU, vcpu))
		}
		if withLoop {
			fmt.Fprintf(&b, " %s |", ratio(r.stats(sc, eventLoopFloor).perCPU, r.stats(sc, floor).perCPU))
		}
		b.WriteString("\n")
	}

	if withFloor {
		fmt.Fprintf(&b, "\n## What the echo target leaves for user space\n\n")
		fmt.Fprintf(&b, "Per scenario: the server CPU time per message the target allows (the best anchor's, divided by 1.2); the least kernel time per message any server in this run needed; their difference, the user budget, which is what a library may spend in user space if it is as frugal in the kernel as the most frugal server; and the floor's and %s's own user time per message. A budget below the floor's user time asks for less user-space work than an echo that checks nothing. (`go run ./cmd/runall -budget results.json` prints this table from the raw runs.)\n\n", me)
		r.writeBudget(&b)
	}

	fmt.Fprintf(&b, "\n## Echo, per scenario (medians)\n\n")
	fmt.Fprintf(&b, "msgs/s: round trips completed per second over all connections. msgs/CPU-s: round trips per second of server CPU time (user+system from /proc/PID/stat, 10 ms resolution). server CPU: cores the server used. kernel: the share of the server's CPU time spent in the kernel (system time). p50/p99: round trip of one message, µs (with a window of 16, a message waits behind up to 15 others). slowest conn: the round trips of the connection that completed the fewest, over the mean per connection (1 when the server served every connection alike; near 0 when some waited while others were served).\n")
	for _, sc := range r.scenarios {
		fmt.Fprintf(&b, "\n### %v\n\n| impl | msgs/s | msgs/CPU-s | server CPU | kernel | p50 µs | p99 µs | slowest conn | ok runs |\n|---|---|---|---|---|---|---|---|---|\n", sc)
		for _, impl := range r.o.impls {
			s := r.stats(sc, impl)
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f | %.0f %% | %.0f | %.0f | %.2f | %d |\n", impl, s.rate, s.perCPU, s.cpu, 100*s.kernel, s.p50, s.p99, s.slowest, s.ok)
		}
	}

	if len(r.idle) > 0 {
		fmt.Fprintf(&b, "\n## Idle connections\n\n")
		fmt.Fprintf(&b, "Server RSS (VmRSS from /proc/PID/status) with %d idle connections open, minus its RSS before the first; median of the runs. Each connection is also a socket in the kernel, which VmRSS does not count. *Settled* is the same with both RSS read once the server has collected its garbage and returned free memory to the operating system (`debug.FreeOSMemory`), as a long-running server's collector and scavenger would in time: what its connections hold, without the garbage their handshakes left. The second table is the same with connections that each echoed one 16-byte message before they idled, as connections in use do.\n", r.o.idle)
		for _, echoed := range []bool{false, true} {
			if echoed {
				fmt.Fprintf(&b, "\nAfter one echo per connection:\n")
			}
			r.writeIdle(&b, echoed)
		}
	}
	for _, s := range r.sections {
		b.WriteString("\n" + strings.TrimSpace(s) + "\n")
	}
	failed := slices.Clone(r.failed)
	for _, x := range r.runs {
		if x.Err != "" {
			failed = append(failed, fmt.Sprintf("- %s, %v, run %d: %s", x.Impl, x.Scenario, x.Run, x.Err))
		}
	}
	for _, x := range r.idle {
		if x.Err != "" {
			failed = append(failed, fmt.Sprintf("- idle %s: %s", x.Impl, x.Err))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\n## Failed runs\n\n%s\n", strings.Join(failed, "\n"))
	}
	if err := os.WriteFile(r.o.out, b.Bytes(), 0o644); err != nil {
		log.Print(err)
	}
	if r.o.raw != "" {
		if err := writeJSON(r.o.raw, map[string]any{"runs": r.runs, "idle": r.idle}); err != nil {
			log.Print(err)
		}
	}
}

// writeIdle writes the idle-memory table of the runs whose connections
// echoed a message first, or of those whose did not.
func (r *report) writeIdle(b *bytes.Buffer, echoed bool) {
	fmt.Fprintf(b, "\n| impl | base RSS MiB | RSS with conns MiB | KiB per connection | settled RSS MiB | settled KiB per connection | ok runs |\n|---|---|---|---|---|---|---|\n")
	for _, impl := range r.o.idleImpl {
		var base, held, per, settled, settledPer []float64
		for _, x := range r.idle {
			if x.Impl == impl && x.Echoed == echoed && x.Err == "" {
				base = append(base, float64(x.Base)/(1<<20))
				held = append(held, float64(x.Held)/(1<<20))
				per = append(per, float64(x.Held-x.Base)/float64(x.Conns)/1024)
				settled = append(settled, float64(x.Settled)/(1<<20))
				settledPer = append(settledPer, float64(x.Settled-x.SettledBase)/float64(x.Conns)/1024)
			}
		}
		fmt.Fprintf(b, "| %s | %.1f | %.1f | %.2f | %.1f | %.2f | %d |\n", impl, median(base), median(held), median(per), median(settled), median(settledPer), len(per))
	}
}
