package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// microPackages are the testing.B packages microSection runs, by the
// directory (relative to bench/) of the module that holds them.
var microPackages = []struct {
	dir  string
	pkgs []string
}{
	{".", []string{"./clientbench/", "./mask/", "./deflate/"}},
	{"..", []string{"./internal/frame/", "./internal/utf8v/"}},
}

// microLibs are the implementations a benchmark name can mention; the
// first is the one compared with the others.
var microLibs = []string{"starling", "gorilla", "coder", "gobwas", "gws", "nbio"}

// microSection runs the micro benchmarks (client cost, masking,
// permessage-deflate, and the root module's frame codec and UTF-8
// validation) with go test -bench at benchtime, from the bench directory,
// and returns a markdown section of the medians, with Starling's ratio to
// the best anchor where a benchmark exists for both. The runs are
// interleaved as the echo runs are: count rounds, each running every
// package once, one package at a time (go test runs the test binaries of
// several packages in parallel otherwise), so that a burst of load from
// another job on the machine lands in one round of each benchmark, not in
// all of one benchmark's runs. If a package fails, the section still
// holds what the others measured, and the error says what failed.
func microSection(ctx context.Context, benchtime string, count int) (string, error) {
	res := microResults{}
	var errs []error
	for range count {
		for _, g := range microPackages {
			args := append([]string{"test", "-p", "1", "-run", "^$", "-bench", ".", "-benchmem", "-timeout", "60m",
				"-benchtime", benchtime, "-count", "1"}, g.pkgs...)
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = g.dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			res.parse(out)
			if err != nil {
				errs = append(errs, fmt.Errorf("go %s (in %s): %v: %s", strings.Join(args, " "), g.dir, err, lastLines(string(out)+stderr.String(), 5)))
			}
		}
		if len(errs) > 0 {
			break // a failing package would fail the same way every round
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Micro benchmarks\n\n")
	fmt.Fprintf(&b, "`go test -p 1 -run '^$' -bench . -benchmem -benchtime %s -count 1` of ./clientbench/, ./mask/ and ./deflate/ (bench module) and ./internal/frame/ and ./internal/utf8v/ (root module), %d rounds (each round runs every package once, one at a time); medians of the %d runs; load average at the end %s. The machine is shared and the benchmarks are not pinned: expect tens of percent of noise. ", benchtime, count, count, loadAvg())
	fmt.Fprintf(&b, "The last column compares Starling with the best anchor in the same benchmark (same package, the same name but for the library): above 1× is better for Starling (Starling over the anchor for MB/s, the anchor over Starling for time and bytes).\n")
	for _, pkg := range res.order {
		res.writeTables(&b, pkg)
	}
	for _, err := range errs {
		fmt.Fprintf(&b, "\n**Failed:** %v\n", err)
	}
	return b.String(), errors.Join(errs...)
}

// microResults holds every value measured: package, benchmark, unit.
type microResults struct {
	order []string                                   // packages, in output order
	names map[string][]string                        // benchmarks per package, in output order
	vals  map[string]map[string]map[string][]float64 // package, benchmark, unit
}

// parse adds go test -bench output to r.
func (r *microResults) parse(out []byte) {
	if r.vals == nil {
		r.names, r.vals = map[string][]string{}, map[string]map[string]map[string][]float64{}
	}
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "pkg:" {
			pkg = f[1][strings.LastIndex(f[1], "/")+1:]
			if r.vals[pkg] == nil {
				r.order = append(r.order, pkg)
				r.vals[pkg] = map[string]map[string][]float64{}
			}
			continue
		}
		if pkg == "" || len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		if r.vals[pkg][name] == nil {
			r.names[pkg] = append(r.names[pkg], name)
			r.vals[pkg][name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				r.vals[pkg][name][f[i+1]] = append(r.vals[pkg][name][f[i+1]], v)
			}
		}
	}
}

// microUnits orders the units of a package's benchmarks: the standard
// ones first, then the benchmarks' own metrics by name.
func microUnits(benches map[string]map[string][]float64, names []string) []string {
	std := []string{"ns/op", "MB/s", "B/op", "allocs/op"}
	var custom []string
	seen := map[string]bool{}
	for _, name := range names {
		for u := range benches[name] {
			if !seen[u] && !slices.Contains(std, u) {
				custom = append(custom, u)
			}
			seen[u] = true
		}
	}
	slices.Sort(custom)
	var out []string
	for _, u := range std {
		if seen[u] {
			out = append(out, u)
		}
	}
	return append(out, custom...)
}

// writeTables writes one package's medians, in one table for each run of
// benchmarks that report the same units.
func (r *microResults) writeTables(b *strings.Builder, pkg string) {
	fmt.Fprintf(b, "\n### %s\n", pkg)
	names, vals := r.names[pkg], r.vals[pkg]
	for start := 0; start < len(names); {
		units := microUnits(vals, names[start:start+1])
		end := start + 1
		for end < len(names) && slices.Equal(microUnits(vals, names[end:end+1]), units) {
			end++
		}
		r.writeTable(b, pkg, names[start:end], units)
		start = end
	}
}

// writeTable writes the medians of the named benchmarks of pkg.
func (r *microResults) writeTable(b *strings.Builder, pkg string, names, units []string) {
	fmt.Fprintf(b, "\n| benchmark | %s | Starling vs best anchor |\n|---|%s---|\n",
		strings.Join(units, " | "), strings.Repeat("---|", len(units)))
	for _, name := range names {
		fmt.Fprintf(b, "| %s |", name)
		for _, u := range units {
			fmt.Fprintf(b, " %s |", microNum(r.vals[pkg][name][u]))
		}
		fmt.Fprintf(b, " %s |\n", r.compare(pkg, name))
	}
}

// microNum formats the median of xs, or a dash if there are none.
func microNum(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	v := median(xs)
	switch {
	case v >= 100 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// microLib splits a benchmark name into the library it measures (empty
// if none) and a key that is the same for every library's version of the
// benchmark: StarlingReader/1KiB and GWS/1KiB share the key "*/1KiB",
// Send/starling/takeover/1KiB and Send/coder/takeover/1KiB the key
// "Send/*/takeover/1KiB".
func microLib(name string) (lib, key string) {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		for _, l := range microLibs {
			if strings.HasPrefix(strings.ToLower(p), l) {
				parts[i] = "*"
				return l, strings.Join(parts, "/")
			}
		}
	}
	return "", name
}

// microRatioUnits are the units a comparison uses, in order of
// preference, and whether more is better; cpu-ns/op is compared as well
// when the benchmark reports it.
var microRatioUnits = []struct {
	unit   string
	higher bool
}{
	{"server-heap-B/conn", false},
	{"heap-B/pair", false},
	{"MB/s", true},
	{"ns/op", false},
}

// compare returns Starling's ratio to the best anchor for a Starling
// benchmark, and an empty cell for any other.
func (r *microResults) compare(pkg, name string) string {
	lib, key := microLib(name)
	if lib != microLibs[0] {
		return ""
	}
	mine := r.vals[pkg][name]
	var cells []string
	for _, ru := range microRatioUnits {
		if len(mine[ru.unit]) == 0 {
			continue
		}
		cells = append(cells, r.ratioCell(pkg, key, ru.unit, ru.higher, median(mine[ru.unit])))
		break
	}
	if v := mine["cpu-ns/op"]; len(v) > 0 {
		cells = append(cells, r.ratioCell(pkg, key, "cpu-ns/op", false, median(v)))
	}
	return strings.Join(slices.DeleteFunc(cells, func(s string) bool { return s == "" }), "; ")
}

// ratioCell compares mine with the best anchor median of unit among the
// benchmarks of pkg with the given key.
func (r *microResults) ratioCell(pkg, key, unit string, higher bool, mine float64) string {
	best, bestLib := 0.0, ""
	for _, name := range r.names[pkg] {
		lib, k := microLib(name)
		xs := r.vals[pkg][name][unit]
		if k != key || lib == "" || lib == microLibs[0] || len(xs) == 0 {
			continue
		}
		v := median(xs)
		if bestLib == "" || (higher && v > best) || (!higher && v < best) {
			best, bestLib = v, lib
		}
	}
	if bestLib == "" || best <= 0 || mine <= 0 {
		return ""
	}
	ratio := best / mine
	if higher {
		ratio = mine / best
	}
	return fmt.Sprintf("%.2f× %s vs %s", ratio, unit, bestLib)
}

// lastLines returns the last n lines of s, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}
