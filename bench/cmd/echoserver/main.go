// Command echoserver runs one implementation's WebSocket echo server, so
// that each runs in a process of its own whose CPU time and memory can be
// measured from outside.
//
// Usage:
//
//	echoserver -impl starling -addr 127.0.0.1:9001 [-cpuprofile f] [-memprofile f] [-pprof addr]
//
// Once it accepts connections it prints "listening ADDR" on stdout.
// SIGINT or SIGTERM stop it (and finish the CPU profile). SIGUSR1 makes it
// collect garbage and return the free memory to the operating system, so
// that its RSS shows what it holds rather than what it has yet to collect.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/starling-ws/starling/bench/echo"
)

func main() {
	impl := flag.String("impl", "starling", "implementation: "+strings.Join(echo.Impls(), ", "))
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file on exit")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.IntVar(&runtime.MemProfileRate, "memprofilerate", runtime.MemProfileRate, "record one allocation per this many bytes in memory profiles (1 records all)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("echoserver: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memprofile != "" {
		defer writeAllocs(*memprofile)
	}
	// Notify before the server listens, so that no SIGUSR1 finds the
	// signal's default action (exit) in place.
	settle := make(chan os.Signal, 1)
	signal.Notify(settle, syscall.SIGUSR1)
	go settleOn(settle)
	if *pprofAddr != "" {
		go func() { log.Print(http.ListenAndServe(*pprofAddr, nil)) }()
	}
	err := echo.Serve(ctx, *impl, *addr, func(a net.Addr) { fmt.Printf("listening %s\n", a) })
	if err != nil {
		log.Print(err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// settleOn runs a garbage collection and returns the free memory to the
// operating system on each signal from ch.
func settleOn(ch <-chan os.Signal) {
	for range ch {
		debug.FreeOSMemory() // collects first
	}
}

// writeAllocs writes the allocation profile (every allocation since the
// start, sampled) to path.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	runtime.GC() // the profile is as of the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Print(err)
	}
}
