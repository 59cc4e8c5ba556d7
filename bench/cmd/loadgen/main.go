// Command loadgen loads a WebSocket echo server and prints what it
// measured as one line of JSON (see load.Result).
//
// Usage:
//
//	loadgen -addr 127.0.0.1:9001 -conns 100 -size 1024 -window 16 -duration 2s [-pid N]
//	loadgen -addr 127.0.0.1:9001 -idle 10000 [-echo]
//
// With -pid, the server's CPU time over the measured interval comes from
// /proc/PID/stat. With -idle N it opens N connections (with -echo, each
// then echoes one message), prints "held N", and keeps them open until
// stdin is closed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/starling-ws/starling/bench/load"
)

func main() {
	var cfg load.Config
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:9001", "echo server address")
	flag.IntVar(&cfg.Conns, "conns", 1, "connections")
	flag.IntVar(&cfg.Size, "size", 16, "message payload bytes")
	flag.IntVar(&cfg.Window, "window", 1, "messages in flight per connection")
	flag.DurationVar(&cfg.Warmup, "warmup", 300*time.Millisecond, "load before measuring")
	flag.DurationVar(&cfg.Duration, "duration", 2*time.Second, "measured time")
	flag.IntVar(&cfg.ServerPID, "pid", 0, "server process id, for its CPU time")
	sources := flag.Int("sources", 0, "spread connections over this many source addresses 127.0.0.2, 127.0.0.3, ...")
	idle := flag.Int("idle", 0, "hold this many idle connections open until stdin closes")
	echoFirst := flag.Bool("echo", false, "with -idle, have each connection echo one message of -size bytes before it idles")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("loadgen: ")
	for i := range *sources {
		cfg.SourceIPs = append(cfg.SourceIPs, net.IPv4(127, 0, byte(i/250), byte(2+i%250)))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *idle > 0 {
		conns, err := load.DialMany(ctx, cfg.Addr, *idle, cfg.Size, cfg.SourceIPs)
		if err != nil {
			log.Fatal(err)
		}
		if *echoFirst {
			err = load.DialEach(len(conns), nil, func(i int, _ net.IP) error {
				if err := conns[i].Send(); err != nil {
					return err
				}
				return conns[i].Receive()
			})
			if err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("held %d\n", len(conns))
		_, _ = io.Copy(io.Discard, os.Stdin)
		for _, c := range conns {
			c.Close()
		}
		return
	}
	r, err := load.Run(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		log.Fatal(err)
	}
}
