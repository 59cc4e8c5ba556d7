package starling_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/starling-ws/starling"
)

// BenchmarkEcho measures one message's round trip through an echo server
// on loopback: the client's write, the server's read and write, and the
// client's read into a reused buffer.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 16 << 10, 1 << 20} {
		for _, compress := range []bool{false, true} {
			name := fmt.Sprintf("%dB", size)
			opts := starling.CompressionOptions{}
			if compress {
				name += "/deflate"
				opts.Mode = starling.CompressionContextTakeover
			}
			b.Run(name, func(b *testing.B) { benchEcho(b, size, opts) })
		}
	}
}

func benchEcho(b *testing.B, size int, comp starling.CompressionOptions) {
	srv := httptest.NewServer(echoHandler(&starling.AcceptOptions{ReadLimit: 64 << 20, Compression: comp}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := starling.Dial(ctx, wsURL(srv), &starling.DialOptions{ReadLimit: 64 << 20, Compression: comp})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Write(ctx, starling.MessageBinary, msg); err != nil {
			b.Fatal(err)
		}
		_, r, err := c.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for n < size {
			m, err := r.Read(buf[n:])
			n += m
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestReadAppendSteadyStateAllocatesNothing checks the performance issue's
// target: with the caller reusing its buffers, an echo round trip of a
// message up to 64 KiB allocates nothing on either side.
func TestReadAppendSteadyStateAllocatesNothing(t *testing.T) {
	testEchoAllocations(t, func(c *starling.Conn, buf []byte) (starling.MessageType, []byte, error) {
		return c.ReadAppend(context.Background(), buf[:0])
	}, 16, 1<<10, 64<<10)
}

// TestReadSliceSteadyStateAllocatesNothing checks the same for ReadSlice,
// which reuses the connection's buffers instead of the caller's: also for
// a message larger than the read buffer, which it lends from a pool.
func TestReadSliceSteadyStateAllocatesNothing(t *testing.T) {
	testEchoAllocations(t, func(c *starling.Conn, _ []byte) (starling.MessageType, []byte, error) {
		return c.ReadSlice(context.Background())
	}, 16, 1<<10, 64<<10, 1<<20)
}

// testEchoAllocations counts the allocations of echo round trips of each
// size, both sides reading with read, which is given the buffer of the
// previous message.
func testEchoAllocations(t *testing.T, read func(*starling.Conn, []byte) (starling.MessageType, []byte, error), sizes ...int) {
	if raceEnabled {
		t.Skip("-race makes sync.Pool drop items, so allocations cannot be counted; .ci/run runs this test without -race")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, p, err := read(c, buf)
			if err != nil {
				return
			}
			buf = p
			if c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := starling.Dial(ctx, wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, size := range sizes {
		msg := bytes.Repeat([]byte("x"), size)
		buf := make([]byte, 0, size)
		echo := func() {
			if err := c.Write(ctx, starling.MessageBinary, msg); err != nil {
				t.Fatal(err)
			}
			_, p, err := read(c, buf)
			if err != nil || len(p) != size {
				t.Fatalf("echo of %d bytes: %d, %v", size, len(p), err)
			}
		}
		echo() // warm the pools and the server's buffer
		if allocs := testing.AllocsPerRun(200, echo); allocs >= 1 {
			t.Errorf("%d-byte echo: %.2f allocations per round trip, want 0", size, allocs)
		}
	}
}

// BenchmarkBroadcast writes one 1 KiB message to 200 connections, as a
// PreparedMessage (encoded and compressed once) and as plain Writes. An op
// is one broadcast to all of them; the clients drain on their own
// goroutines.
func BenchmarkBroadcast(b *testing.B) {
	for _, compress := range []bool{false, true} {
		opts := starling.CompressionOptions{}
		name := "plain"
		if compress {
			opts.Mode, name = starling.CompressionNoContextTakeover, "deflate"
		}
		b.Run(name+"/prepared", func(b *testing.B) { benchBroadcast(b, opts, true) })
		b.Run(name+"/write", func(b *testing.B) { benchBroadcast(b, opts, false) })
	}
}

func benchBroadcast(b *testing.B, comp starling.CompressionOptions, prepared bool) {
	const conns = 200
	accepted := make(chan *starling.Conn, conns)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Compression: comp})
		if err == nil {
			accepted <- c
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	var servers []*starling.Conn
	for range conns {
		c, _, err := starling.Dial(ctx, wsURL(srv), &starling.DialOptions{Compression: comp})
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			var buf []byte
			for {
				var err error
				if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
					return
				}
			}
		}()
		defer c.CloseNow()
		servers = append(servers, <-accepted)
	}
	msg := bytes.Repeat([]byte(`{"symbol":"STAR","price":101.25,"volume":1200} `), 22)[:1024]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if prepared {
			pm, err := starling.NewPreparedMessage(starling.MessageText, msg)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range servers {
				if err := c.WritePrepared(ctx, pm); err != nil {
					b.Fatal(err)
				}
			}
			continue
		}
		for _, c := range servers {
			if err := c.Write(ctx, starling.MessageText, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	for _, c := range servers {
		c.CloseNow()
	}
}

// BenchmarkAccept measures what a server allocates to take one
// connection without net/http: the TCP accept, ReadHandshake and
// Handshake.Accept. Its bytes are what an idle connection keeps plus the
// handshake's garbage, which a server accepting many connections carries
// in its heap until the next collection. The client's dial and its
// reading of the response run with the timer stopped, so they are not
// counted.
func BenchmarkAccept(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	req := []byte("GET /chat HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: bench\r\n\r\n")
	resp := make([]byte, 512)
	ctx := context.Background()
	opts := &starling.AcceptOptions{}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cc.Write(req); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		nc, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		hs, err := starling.ReadHandshake(ctx, nc)
		if err != nil {
			b.Fatal(err)
		}
		c, err := hs.Accept(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n, err := cc.Read(resp); err != nil || !bytes.HasPrefix(resp[:n], []byte("HTTP/1.1 101 ")) {
			b.Fatalf("response %q, %v", resp[:n], err)
		}
		c.CloseNow()
		cc.Close()
		b.StartTimer()
	}
}
