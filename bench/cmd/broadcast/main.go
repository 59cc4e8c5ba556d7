// Command broadcast measures sending one message to many WebSocket
// connections with each implementation (see package broadcast) and prints
// a markdown table: wall time until every client has the message, the
// server's CPU time and its allocations, with and without compression.
//
// Run it from the bench directory:
//
//	go run ./cmd/broadcast                        # 10,000 connections, 1 KiB, 5 runs
//	go run ./cmd/broadcast -conns 200 -runs 2     # smoke, a few seconds
//	go run ./cmd/broadcast -size 1024,16384 -impls starling,gorilla -json /tmp/b.json
//
// It runs itself again as the server and the client processes (with
// -role as first argument, see broadcast.RunRole), pinned to CPUs of their
// own with taskset when there is more than one CPU.
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
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/starling-ws/starling/bench/broadcast"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("broadcast: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if broadcast.IsRole(os.Args[1:]) {
		if err := broadcast.RunRole(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Printf("error %v\n", err)
			log.Fatal(err)
		}
		return
	}
	impls := flag.String("impls", "starling,gorilla,coder,gobwas,gws,nbio", "implementations, comma-separated; the first is compared with the others")
	conns := flag.Int("conns", 10000, "connections per implementation (each client process holds them all, so at most the file limit)")
	sizes := flag.String("size", "1024", "message sizes in bytes, comma-separated")
	runs := flag.Int("runs", 5, "measured broadcasts per implementation, size and compression setting (after one unmeasured)")
	compress := flag.String("compression", "off,on", "compression settings to measure: off, on, or off,on")
	jsonOut := flag.String("json", "", "also write the raw samples to this file")
	profiles := flag.String("cpuprofiles", "", "write each server's CPU profile into this directory")
	flag.Parse()
	if err := compare(ctx, *impls, *conns, *sizes, *runs, *compress, *jsonOut, *profiles); err != nil {
		log.Fatal(err)
	}
}

func compare(ctx context.Context, impls string, conns int, sizes string, runs int, compress, jsonOut, profiles string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := broadcast.Config{
		Exe:      exe,
		Impls:    strings.Split(impls, ","),
		Conns:    conns,
		Runs:     runs,
		Profiles: profiles,
		Logf:     log.Printf,
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("-size %q: %v", s, err)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	for _, c := range strings.Split(compress, ",") {
		switch c {
		case "off":
			cfg.Compress = append(cfg.Compress, false)
		case "on":
			cfg.Compress = append(cfg.Compress, true)
		default:
			return fmt.Errorf("-compression %q: want off, on or off,on", compress)
		}
	}
	if ts, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() > 1 {
		n := runtime.NumCPU()
		cfg.Taskset, cfg.ServerCPUs, cfg.ClientCPUs = ts, fmt.Sprint(n-1), "0"
		if n > 2 {
			cfg.ClientCPUs = fmt.Sprintf("0-%d", n-2)
		}
	}
	results := broadcast.Run(ctx, cfg)
	fmt.Print(broadcast.Markdown(cfg, results))
	if jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.Err != "" {
			return fmt.Errorf("%s failed: %s", r.Impl, r.Err)
		}
	}
	return ctx.Err()
}
