package wsflate

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"testing"

	"github.com/starling-ws/starling/internal/deflate"
)

// heapPer returns the live heap bytes per object that newObj creates,
// after each has handled one message. One object is made first, so that
// what is shared is not counted per object, and two collections empty
// the pools (their victim caches too) before each reading, so that only
// what the objects themselves keep is counted.
func heapPer(n int, newObj func() any) uint64 {
	keep := make([]any, n)
	runtime.KeepAlive(newObj())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = newObj()
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return (after.HeapAlloc - before.HeapAlloc) / uint64(n)
}

// TestMemoryPerConnection measures what one connection keeps between
// messages: a Compressor and a Decompressor that have each handled 48
// JSON messages of 1 KiB, more than a 32 KiB window holds. Run with -v
// to see the numbers quoted in the doc comments.
func TestMemoryPerConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 100 MB")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race; run without it")
	}
	const n = 50
	msgs := jsonMessages(48, 1024)
	send := func(c *Compressor) *Compressor {
		buf := make([]byte, 0, 2048)
		for _, m := range msgs {
			buf = c.Append(buf[:0], m)
		}
		return c
	}
	// The compressed messages, for the Decompressors.
	compressed := func(noContext bool) [][]byte {
		c, _ := NewCompressor(flate.BestSpeed, noContext, 15)
		z := make([][]byte, len(msgs))
		for i, m := range msgs {
			z[i] = c.Append(nil, m)
		}
		return z
	}
	zTakeover, zNoContext := compressed(false), compressed(true)
	compressor := func(level int, noContext bool, bits, history int) func() any {
		return func() any {
			c, _ := NewCompressor(level, noContext, bits)
			c.LimitHistory(history)
			return send(c)
		}
	}
	decompressor := func(noContext bool) func() any {
		zs := zTakeover
		if noContext {
			zs = zNoContext
		}
		return func() any {
			d := NewDecompressor(noContext)
			for _, z := range zs {
				d.Reset(bytes.NewReader(z), -1)
				io.Copy(io.Discard, d)
			}
			return d
		}
	}
	tests := []struct {
		name   string
		newObj func() any
		max    uint64
	}{
		{"Compressor, takeover, BestSpeed", compressor(flate.BestSpeed, false, 15, 0), 56 << 10},
		{"Compressor, takeover, BestSpeed, 9-bit window", compressor(flate.BestSpeed, false, 9, 0), 16 << 10},
		{"Compressor, takeover, BestSpeed, 4 KiB history", compressor(flate.BestSpeed, false, 15, 4<<10), 20 << 10},
		{"Compressor, takeover, DefaultCompression", compressor(flate.DefaultCompression, false, 15, 0), 1 << 20},
		{"Compressor, takeover, DefaultCompression, 4 KiB history", compressor(flate.DefaultCompression, false, 15, 4<<10), 5 << 10},
		{"Compressor, no takeover (pooled)", compressor(flate.BestSpeed, true, 15, 0), 1 << 10},
		{"Compressor, no takeover, DefaultCompression (pooled)", compressor(flate.DefaultCompression, true, 15, 0), 1 << 10},
		{"Decompressor, takeover", decompressor(false), 40 << 10},
		{"Decompressor, no takeover (pooled)", decompressor(true), 1 << 10},
	}
	for _, tt := range tests {
		got := heapPer(n, tt.newObj)
		t.Logf("%-56s %8d bytes per connection", tt.name, got)
		if got > tt.max {
			t.Errorf("%s: %d bytes per connection; want at most %d", tt.name, got, tt.max)
		}
	}
	// What a message in flight borrows from the pools, per concurrent writer
	// or reader.
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression} {
		got := heapPer(n, func() any { fw, _ := flate.NewWriter(io.Discard, level); return fw })
		t.Logf("pooled flate.Writer, level %-2d %27d bytes while a message is written", level, got)
	}
	got := heapPer(n, func() any {
		e := deflate.NewEncoder(deflate.MaxWindow, false)
		e.Write(nil, msgs[0])
		return e
	})
	t.Logf("deflate.Encoder mid-message, no takeover %18d bytes while a message is written", got)
	p := make([]byte, 1)
	got = heapPer(n, func() any {
		d := NewDecompressor(true)
		d.Reset(bytes.NewReader(zNoContext[0]), -1)
		d.Read(p)
		return d
	})
	t.Logf("Decompressor mid-message, no takeover %21d bytes while a message is read", got)
}
