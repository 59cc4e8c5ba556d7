package wsflate

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"testing"
)

// heapPer returns the live heap bytes per object that newObj creates,
// after each has handled one message. One object is made first, so that
// what the pools share is not counted per object.
func heapPer(n int, newObj func() any) uint64 {
	keep := make([]any, n)
	runtime.KeepAlive(newObj())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = newObj()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return (after.HeapAlloc - before.HeapAlloc) / uint64(n)
}

// TestMemoryPerConnection measures what one connection keeps between
// messages: a Compressor and a Decompressor that have each handled one
// 1 KiB JSON message. Run with -v to see the numbers quoted in the doc
// comments.
func TestMemoryPerConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 100 MB")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race; run without it")
	}
	const n = 50
	msg := jsonMessages(1, 1024)[0]
	compressed := func(noContext bool) []byte {
		c, _ := NewCompressor(flate.BestSpeed, noContext, 15)
		return c.Append(nil, msg)
	}
	zTakeover, zNoContext := compressed(false), compressed(true)
	compressor := func(level int, noContext bool, bits int) func() any {
		return func() any {
			c, _ := NewCompressor(level, noContext, bits)
			c.Append(make([]byte, 0, 1024), msg)
			return c
		}
	}
	decompressor := func(noContext bool) func() any {
		z := zTakeover
		if noContext {
			z = zNoContext
		}
		return func() any {
			d := NewDecompressor(noContext)
			d.Reset(bytes.NewReader(z), -1)
			io.Copy(io.Discard, d)
			return d
		}
	}
	tests := []struct {
		name   string
		newObj func() any
		max    uint64
	}{
		{"Compressor, takeover, BestSpeed", compressor(flate.BestSpeed, false, 15), 2 << 20},
		{"Compressor, takeover, DefaultCompression", compressor(flate.DefaultCompression, false, 15), 2 << 20},
		{"Compressor, takeover, 4 KiB history (pooled)", func() any {
			c, _ := NewCompressor(flate.BestSpeed, false, 15)
			c.LimitHistory(4 << 10)
			c.Append(make([]byte, 0, 1024), msg)
			return c
		}, 5 << 10},
		{"Compressor, takeover, window < 15 (pooled)", compressor(flate.BestSpeed, false, 10), 1 << 10},
		{"Compressor, no takeover (pooled)", compressor(flate.DefaultCompression, true, 15), 1 << 10},
		{"Decompressor, takeover", decompressor(false), 40 << 10},
		{"Decompressor, no takeover (pooled)", decompressor(true), 1 << 10},
	}
	for _, tt := range tests {
		got := heapPer(n, tt.newObj)
		t.Logf("%-48s %8d bytes per connection", tt.name, got)
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
	p := make([]byte, 1)
	got := heapPer(n, func() any {
		d := NewDecompressor(true)
		d.Reset(bytes.NewReader(zNoContext), -1)
		d.Read(p)
		return d
	})
	t.Logf("Decompressor mid-message, no takeover %21d bytes while a message is read", got)
}
