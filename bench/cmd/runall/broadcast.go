package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/starling-ws/starling/bench/broadcast"
)

// broadcastSection builds cmd/broadcast into bin and measures one message
// broadcast to conns connections by every implementation, 1 KiB, with
// compression off and on, runs measured broadcasts each, with the server
// and client pinned as pin says. It returns the markdown section for
// RESULTS.md, and an error naming the settings that failed (the section
// still holds the others).
func broadcastSection(ctx context.Context, bin string, pin pinning, conns, runs int) (string, error) {
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/broadcast")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build cmd/broadcast (run runall from the bench directory): %w", err)
	}
	cfg := broadcast.Config{
		Exe:        filepath.Join(bin, "broadcast"),
		Taskset:    pin.taskset,
		ServerCPUs: pin.server,
		ClientCPUs: pin.client,
		Impls:      []string{"starling", "gorilla", "coder", "gobwas", "gws", "nbio"},
		Conns:      conns,
		Sizes:      []int{1 << 10},
		Compress:   []bool{false, true},
		Runs:       runs,
		Logf:       log.Printf,
	}
	results := broadcast.Run(ctx, cfg)
	var errs []error
	for _, r := range results {
		if r.Err != "" {
			errs = append(errs, fmt.Errorf("broadcast %s, compression %v: %s", r.Impl, r.Compress, r.Err))
		}
	}
	return broadcast.Markdown(cfg, results), errors.Join(errs...)
}
