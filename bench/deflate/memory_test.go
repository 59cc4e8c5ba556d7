package deflate

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// memConns is how many connections BenchmarkMemory holds open at once.
const memConns = 200

// BenchmarkMemory reports the memory held per connection after one 1 KiB
// message each way, as growth of heap in use, and the goroutines left
// running (each has a stack of 8 KiB or more, which the heap does not
// count; StackInuse cannot measure them, since new goroutines reuse the
// stacks of dead ones):
//
//   - heap-B/pair, goroutines/pair: a client and a server of the same
//     library, both in this process;
//   - server-heap-B/conn, server-goroutines/conn: the library's server
//     with the raw client, which holds only its net.TCPConn afterwards (a
//     few hundred bytes, the same for every library).
//
// What a server shares among its connections (gws's pool of compressors)
// is made before the baseline and not counted. An op is opening the
// connections, exchanging the messages and measuring; its time says
// nothing about compression.
func BenchmarkMemory(b *testing.B) {
	for _, lib := range libraries {
		for _, m := range lib.modes {
			b.Run(lib.name+"/"+m.String(), func(b *testing.B) {
				s := startServer(b, lib, m)
				var heap, gs, srvHeap, srvGs float64
				for b.Loop() {
					heap, gs = held(func() func() { return openPair(b, lib, s, m) })
					srvHeap, srvGs = held(func() func() { return openRaw(b, s, m) })
				}
				b.ReportMetric(heap, "heap-B/pair")
				b.ReportMetric(gs, "goroutines/pair")
				b.ReportMetric(srvHeap, "server-heap-B/conn")
				b.ReportMetric(srvGs, "server-goroutines/conn")
			})
		}
	}
}

// held calls open memConns times and returns the growth of heap in use
// and of the number of goroutines per call, measured after two
// collections (the second empties sync.Pools, so only what the
// connections hold counts). open returns a function that closes what it
// opened.
func held(open func() (close func())) (heap, goroutines float64) {
	closers := make([]func(), 0, memConns)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for range memConns {
		closers = append(closers, open())
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / memConns
	return heap, float64(runtime.NumGoroutine()-g0) / memConns
}

// openPair connects a client of lib to s and sends one message each way.
func openPair(b *testing.B, lib library, s *server, m mode) func() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, _, err := lib.dial(ctx, s.url(), m)
	if err != nil {
		b.Fatal(err)
	}
	srv := s.accepted(b)
	p := payload(1<<10, 7)
	roundTrip(b, cl, srv, p)
	roundTrip(b, srv, cl, p)
	return func() {
		cl.close()
		srv.close()
	}
}

// openRaw connects the raw client to s and sends one message each way,
// compressed unless m is off; then the raw client drops its read buffer.
func openRaw(b *testing.B, s *server, m mode) func() {
	rc, err := dialRaw(s.addr, m)
	if err != nil {
		b.Fatal(err)
	}
	srv := s.accepted(b)
	p := payload(1<<10, 7)
	if err := srv.write(p); err != nil {
		b.Fatal(err)
	}
	if compressed, _, err := rc.readMessage(); err != nil || compressed != (m != off) {
		b.Fatalf("reading the server's message: compressed %v, error %v", compressed, err)
	}
	f := appendFrame(nil, p, false)
	if m != off {
		f = appendFrame(nil, newDeflater(false).compress(p), true)
	}
	if _, err := rc.nc.Write(f); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.read(nil); err != nil {
		b.Fatal(err)
	}
	if rc.br.Buffered() > 0 {
		b.Fatal("raw client: unexpected bytes from the server")
	}
	nc := rc.nc
	return func() {
		nc.Close()
		srv.close()
	}
}
