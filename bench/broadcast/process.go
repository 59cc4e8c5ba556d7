package broadcast

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

// The measurement runs the server and the client in processes of their
// own, driven over their stdin and stdout one line at a time:
//
//	server, after "listening ADDR":
//	  wait N        -> conns N          (N connections accepted)
//	  send K SIZE   -> sent K T0 WRITES (broadcast Payload(K, SIZE); T0 in
//	                                     Unix ns just before it starts,
//	                                     WRITES ns until every write returned)
//	  stats         -> stats CPU MALLOCS BYTES (since the last send: CPU ns
//	                                     from getrusage, heap objects and
//	                                     bytes allocated from MemStats)
//	client, after "connected N":
//	  expect K SIZE -> ready K, then got K T WIRE (T: Unix ns when the
//	                                     last connection received it; WIRE:
//	                                     payload bytes each received, as sent)
//
// Any failure is answered with a line "error ...".

// IsRole reports whether args, a program's arguments after its name, ask
// it to be one of the processes Run starts.
func IsRole(args []string) bool { return len(args) > 0 && args[0] == "-role" }

// RunRole runs the process Run asked for with args (see Config.Exe),
// reading commands from in and answering on out until in ends.
func RunRole(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	role := fs.String("role", "", "server or client")
	impl := fs.String("impl", "starling", "server: implementation")
	addr := fs.String("addr", "127.0.0.1:0", "the server's address")
	conns := fs.Int("conns", 1, "client: connections")
	sources := fs.Int("sources", 0, "client: spread connections over this many source addresses 127.0.0.2 and up")
	compress := fs.Bool("compress", false, "negotiate permessage-deflate")
	cpuprofile := fs.String("cpuprofile", "", "server: write a CPU profile of the process to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch *role {
	case "server":
		return ServeProcess(ctx, *impl, *addr, *compress, in, out)
	case "client":
		return ClientProcess(ctx, *addr, *conns, *compress, Sources(*sources), in, out)
	}
	return fmt.Errorf("broadcast: unknown role %q", *role)
}

// ServeProcess runs impl's server on addr and answers the commands read
// from in on out until in ends.
func ServeProcess(ctx context.Context, impl, addr string, compress bool, in io.Reader, out io.Writer) error {
	s, err := Start(impl, addr, compress)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "listening %s\n", s.Addr())
	var mark usage
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var n, k, size int
		line := sc.Text()
		switch {
		case scan(line, "wait %d", &n):
			if err := s.WaitConns(ctx, n); err != nil {
				fmt.Fprintf(out, "error %v\n", err)
				continue
			}
			fmt.Fprintf(out, "conns %d\n", s.Conns())
		case scan(line, "send %d %d", &k, &size):
			data := Payload(k, size)
			runtime.GC() // every broadcast starts from a collected heap
			mark = measure()
			t0 := time.Now()
			err := s.Broadcast(ctx, data)
			writes := time.Since(t0)
			if err != nil {
				fmt.Fprintf(out, "error %v\n", err)
				continue
			}
			fmt.Fprintf(out, "sent %d %d %d\n", k, t0.UnixNano(), writes.Nanoseconds())
		case line == "stats":
			u := measure()
			fmt.Fprintf(out, "stats %d %d %d\n", u.cpu-mark.cpu, u.mallocs-mark.mallocs, u.bytes-mark.bytes)
		default:
			fmt.Fprintf(out, "error unknown command %q\n", line)
		}
	}
	return sc.Err()
}

// ClientProcess opens conns connections to addr and answers the commands
// read from in on out until in ends.
func ClientProcess(ctx context.Context, addr string, conns int, compress bool, sources []net.IP, in io.Reader, out io.Writer) error {
	cl, err := Dial(ctx, addr, conns, compress, sources)
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Fprintf(out, "connected %d\n", cl.Conns())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var k, size int
		if !scan(sc.Text(), "expect %d %d", &k, &size) {
			fmt.Fprintf(out, "error unknown command %q\n", sc.Text())
			continue
		}
		r := cl.Expect(Payload(k, size))
		fmt.Fprintf(out, "ready %d\n", k)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		last, err := cl.Wait(wctx, r)
		cancel()
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
			continue
		}
		fmt.Fprintf(out, "got %d %d %d\n", k, last.UnixNano(), r.Wire()/int64(cl.Conns()))
	}
	return sc.Err()
}

// scan reports whether line matches format exactly.
func scan(line, format string, args ...any) bool {
	n, err := fmt.Sscanf(line, format, args...)
	return err == nil && n == len(args)
}

// usage is what the process has consumed so far.
type usage struct {
	cpu            int64 // user+system CPU, ns, all threads
	mallocs, bytes uint64
}

// measure reads getrusage (microsecond resolution, unlike the 10 ms of
// /proc/PID/stat) and the allocation counters.
func measure() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{
		cpu:     ru.Utime.Nano() + ru.Stime.Nano(),
		mallocs: ms.Mallocs,
		bytes:   ms.TotalAlloc,
	}
}
