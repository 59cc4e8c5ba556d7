package deflate

import (
	"bytes"
	"testing"
)

// forEach runs f for every library, compression mode and message size,
// with one server per library and mode.
func forEach(b *testing.B, f func(b *testing.B, s *server, m mode, n int)) {
	for _, lib := range libraries {
		for _, m := range lib.modes[1:] {
			b.Run(lib.name+"/"+m.String(), func(b *testing.B) {
				s := startServer(b, lib, m)
				for _, n := range sizes {
					b.Run(sizeName(n), func(b *testing.B) { f(b, s, m, n) })
				}
			})
		}
	}
}

// connect opens a raw client connection to s and returns it with the
// server's end.
func connect(b *testing.B, s *server, m mode) (*rawClient, endpoint) {
	rc, err := dialRaw(s.addr, m)
	if err != nil {
		b.Fatal(err)
	}
	return rc, s.accepted(b)
}

// BenchmarkSend measures the server compressing and writing one message
// per op; the raw client reads and discards.
func BenchmarkSend(b *testing.B) {
	forEach(b, func(b *testing.B, s *server, m mode, n int) {
		rc, srv := connect(b, s, m)
		defer rc.nc.Close()
		wire := make(chan int64, 1)
		go func() { wire <- rc.discard() }()
		msgs := messages(n)
		for _, p := range msgs { // warm up: pools, buffers, the window
			if err := srv.write(p); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(n))
		b.ReportAllocs()
		sent := len(msgs)
		for b.Loop() {
			if err := srv.write(msgs[sent%len(msgs)]); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		b.StopTimer()
		srv.close()
		b.ReportMetric(float64(<-wire)/float64(sent), "wire-B/msg")
	})
}

// BenchmarkReceive measures the server reading and decompressing one
// message per op, from frames the raw client compressed in advance.
func BenchmarkReceive(b *testing.B) {
	forEach(b, func(b *testing.B, s *server, m mode, n int) {
		rc, srv := connect(b, s, m)
		defer srv.close()
		defer rc.nc.Close()
		msgs := messages(n)
		warm, cycle := receiveStream(msgs, m)
		go rc.send(warm, cycle)
		buf := make([]byte, n)
		passes := 1
		if len(warm) > 0 {
			passes++
		}
		for range passes { // check that the stream decompresses right
			for i, want := range msgs {
				got, err := srv.read(buf)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					b.Fatalf("message %d: received %d bytes, not the %d sent", i, len(got), len(want))
				}
				buf = got
			}
		}
		b.SetBytes(int64(n))
		b.ReportAllocs()
		for b.Loop() {
			got, err := srv.read(buf)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != n {
				b.Fatalf("received %d bytes, not %d", len(got), n)
			}
			buf = got
		}
	})
}
