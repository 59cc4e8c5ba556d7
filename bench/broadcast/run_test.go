package broadcast_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling/bench/broadcast"
)

// TestMain lets Run start the test binary itself as its server and
// client processes.
func TestMain(m *testing.M) {
	if broadcast.IsRole(os.Args[1:]) {
		if err := broadcast.RunRole(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Printf("error %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun runs a whole small comparison in separate processes and checks
// that every setting was measured and reported.
func TestRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := broadcast.Config{
		Exe:      exe,
		Impls:    []string{"starling", "gws"},
		Conns:    20,
		Sizes:    []int{1 << 10},
		Compress: []bool{false, true},
		Runs:     2,
		Logf:     t.Logf,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := broadcast.Run(ctx, cfg)
	if len(results) != 4 {
		t.Fatalf("%d results, want 4 (2 implementations × compression off and on)", len(results))
	}
	for _, r := range results {
		if r.Err != "" || len(r.Samples) != cfg.Runs {
			t.Fatalf("%s, compression %v: %d samples, error %q; want %d samples", r.Impl, r.Compress, len(r.Samples), r.Err, cfg.Runs)
		}
		for _, s := range r.Samples {
			if s.Wall <= 0 || s.CPU <= 0 || s.Writes <= 0 {
				t.Errorf("%s, compression %v: sample %+v has a zero time", r.Impl, r.Compress, s)
			}
			if s.Wire <= 0 || (s.Wire < 1<<10) != r.Compress {
				t.Errorf("%s, compression %v: %d payload bytes received for 1024", r.Impl, r.Compress, s.Wire)
			}
		}
	}
	md := broadcast.Markdown(cfg, results)
	for _, want := range []string{"### 1 KiB, compression off", "### 1 KiB, compression on", "| starling |", "| gws |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// TestRunReportsFailure checks that an implementation that cannot start
// is reported, and the others still measured.
func TestRunReportsFailure(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := broadcast.Config{Exe: exe, Impls: []string{"starling", "nope"}, Conns: 5, Sizes: []int{100}, Compress: []bool{false}, Runs: 1}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := broadcast.Run(ctx, cfg)
	if len(results) != 2 || results[0].Err != "" || len(results[0].Samples) != 1 || results[1].Err == "" {
		t.Fatalf("results %+v: want starling measured once and nope failed", results)
	}
	if md := broadcast.Markdown(cfg, results); !strings.Contains(md, "- nope") {
		t.Errorf("report does not list the failure:\n%s", md)
	}
}

// TestStarlingCompressesOnce checks the claim the broadcast measures for
// Starling: a compressed broadcast costs the server a fixed number of
// allocations, not some per connection, because the message is
// compressed once. The fixed part (the 16 writer goroutines, the command
// lines, the compressor after the collection that precedes every
// broadcast) varies between about 40 and 110 allocations, so the test uses
// enough connections that one allocation each would stand far above it.
func TestStarlingCompressesOnce(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const conns = 900
	cfg := broadcast.Config{Exe: exe, Impls: []string{"starling"}, Conns: conns, Sizes: []int{4 << 10}, Compress: []bool{true}, Runs: 1}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := broadcast.Run(ctx, cfg)
	if len(results) != 1 || results[0].Err != "" || len(results[0].Samples) != 1 {
		t.Fatalf("results %+v", results)
	}
	s := results[0].Samples[0]
	if s.Wire >= 4<<10 {
		t.Fatalf("each connection received %d bytes for 4096: not compressed", s.Wire)
	}
	if s.Mallocs >= conns/4 {
		t.Errorf("a compressed broadcast to %d connections made %d allocations, want a few independent of the connections", conns, s.Mallocs)
	}
}
