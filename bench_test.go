package starling_test

import (
	"context"
	"fmt"
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
