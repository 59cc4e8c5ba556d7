package broadcast

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// idioms says how each implementation broadcasts, and whether a
// compressed broadcast is compressed once or once per connection.
var idioms = map[string]struct{ how, compressed string }{
	"starling": {"`NewPreparedMessage` + `WritePrepared`", "once"},
	"gorilla":  {"`NewPreparedMessage` + `WritePreparedMessage`", "once"},
	"gws":      {"`NewBroadcaster` + `Broadcast` (queues each write on the connection's own goroutine)", "once"},
	"gobwas":   {"frame encoded once (`wsflate.Writer`), its bytes written to each `net.Conn`", "once"},
	"coder":    {"`Write` per connection (no prepared message)", "per connection"},
	"nbio":     {"`WriteMessage` per connection (no broadcast helper)", "per connection"},
}

// Markdown renders results as a section of a report, with medians of
// each result's samples.
func Markdown(cfg Config, results []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Broadcast: one message to %d connections\n\n", cfg.Conns)
	fmt.Fprintf(&b, "Each implementation runs in a server process of its own with a client process holding %d connections to it over loopback (gobwas/ws low-level reads; every message is checked byte for byte). ", cfg.Conns)
	if cfg.Taskset != "" {
		fmt.Fprintf(&b, "Servers run on CPU %s and clients on CPU %s (taskset), so every server has GOMAXPROCS=1. ", cfg.ServerCPUs, cfg.ClientCPUs)
	}
	fmt.Fprintf(&b, "Every server writes a broadcast with the same fan-out: %d goroutines, each writing to its contiguous share of the connections in order. ", Workers)
	fmt.Fprintf(&b, "All servers and clients of a compression setting stay up together; in each of %d runs every implementation broadcasts once per size, in an order rotated from run to run; one more run before them is not measured. Medians. ", cfg.Runs)
	fmt.Fprintf(&b, "With compression the client offers permessage-deflate without context takeover, so every library compresses each message on its own.\n\n")
	fmt.Fprintf(&b, "- **wall**: from the server starting the broadcast until the last client connection received it.\n")
	fmt.Fprintf(&b, "- **server CPU**: the server's user+system time (getrusage) over that interval; **CPU µs per conn** divides it by the connections.\n")
	fmt.Fprintf(&b, "- **allocs**, **alloc KiB**, **B per conn**: the server's heap objects and bytes allocated (runtime.MemStats Mallocs and TotalAlloc deltas) over it.\n")
	fmt.Fprintf(&b, "- **writes**: until every write call returned; gws's Broadcast only queues the write, so its number is the queueing.\n")
	fmt.Fprintf(&b, "- **payload B**: the payload each connection received, as sent (compressed or not).\n")
	fmt.Fprintf(&b, "- With compression the client inflates each distinct compressed payload of a broadcast once and compares every other copy with it byte for byte, so that one process standing in for %d receivers does not set the wall time by inflating them all.\n", cfg.Conns)
	fmt.Fprintf(&b, "- The machine is shared: a run that another job interrupts is slower; compare implementations within one report only.\n\n")
	fmt.Fprintf(&b, "| impl | idiom | compressed |\n|---|---|---|\n")
	for _, impl := range cfg.Impls {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", impl, idioms[impl].how, idioms[impl].compressed)
	}
	for _, size := range cfg.Sizes {
		for _, compress := range cfg.Compress {
			onOff := "off"
			if compress {
				onOff = "on"
			}
			fmt.Fprintf(&b, "\n### %s, compression %s\n\n", sizeName(size), onOff)
			fmt.Fprintf(&b, "| impl | wall ms | server CPU ms | CPU µs per conn | allocs | alloc KiB | B per conn | writes ms | payload B | runs |\n|---|---|---|---|---|---|---|---|---|---|\n")
			for _, impl := range cfg.Impls {
				for _, r := range results {
					if r.Impl == impl && r.Size == size && r.Compress == compress {
						b.WriteString(row(r))
					}
				}
			}
			b.WriteString(versus(cfg.Impls, results, size, compress))
		}
	}
	var failed []string
	for _, r := range results {
		if r.Err != "" {
			failed = append(failed, fmt.Sprintf("- %s, %s, compression %v: %s", r.Impl, sizeName(r.Size), r.Compress, r.Err))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\nFailed:\n\n%s\n", strings.Join(failed, "\n"))
	}
	return b.String()
}

// versus compares the first implementation's median server CPU with the
// lowest of the others'.
func versus(impls []string, results []Result, size int, compress bool) string {
	cpu := map[string]float64{}
	for _, r := range results {
		if r.Size == size && r.Compress == compress && len(r.Samples) > 0 {
			cpu[r.Impl] = medianOf(r.Samples, func(s Sample) float64 { return float64(s.CPU) / 1e6 })
		}
	}
	me, ok := cpu[impls[0]]
	best, name := 0.0, ""
	for _, impl := range impls[1:] {
		if v, ok := cpu[impl]; ok && (name == "" || v < best) {
			best, name = v, impl
		}
	}
	if !ok || name == "" || me == 0 {
		return ""
	}
	return fmt.Sprintf("\n%s's server CPU is %.2f× the lowest of the others (%s): below 1× is less.\n", impls[0], me/best, name)
}

func medianOf(samples []Sample, f func(Sample) float64) float64 {
	xs := make([]float64, len(samples))
	for i, s := range samples {
		xs[i] = f(s)
	}
	return median(xs)
}

func row(r Result) string {
	pick := func(f func(Sample) float64) float64 { return medianOf(r.Samples, f) }
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	wall := pick(func(s Sample) float64 { return ms(s.Wall) })
	cpu := pick(func(s Sample) float64 { return ms(s.CPU) })
	allocs := pick(func(s Sample) float64 { return float64(s.Mallocs) })
	bytes := pick(func(s Sample) float64 { return float64(s.Bytes) })
	writes := pick(func(s Sample) float64 { return ms(s.Writes) })
	wire := pick(func(s Sample) float64 { return float64(s.Wire) })
	n := float64(max(r.Conns, 1))
	return fmt.Sprintf("| %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.0f | %.1f | %.0f | %d |\n",
		r.Impl, wall, cpu, cpu*1e3/n, allocs, bytes/1024, bytes/n, writes, wire, len(r.Samples))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
