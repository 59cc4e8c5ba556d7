package wsflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

// benchModes are the connection settings the benchmarks compare.
var benchModes = []struct {
	name      string
	level     int
	noContext bool
}{
	{"takeover/BestSpeed", flate.BestSpeed, false},
	{"takeover/Default", flate.DefaultCompression, false},
	{"no-takeover/BestSpeed", flate.BestSpeed, true},
	{"no-takeover/Default", flate.DefaultCompression, true},
}

// BenchmarkCompress compresses 1 KiB JSON-like messages, one per op.
func BenchmarkCompress(b *testing.B) {
	msgs := jsonMessages(64, 1024)
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			c, _ := NewCompressor(m.level, m.noContext, 15)
			dst := make([]byte, 0, 2048)
			var in, out int
			b.ReportAllocs()
			b.SetBytes(int64(len(msgs[0])))
			for i := 0; b.Loop(); i++ {
				msg := msgs[i%len(msgs)]
				dst = c.Append(dst[:0], msg)
				in, out = in+len(msg), out+len(dst)
			}
			b.ReportMetric(float64(out)/float64(in), "ratio")
		})
	}
}

// BenchmarkDecompress inflates the same messages, in the order they were
// compressed, so that context takeover references resolve.
func BenchmarkDecompress(b *testing.B) {
	msgs := jsonMessages(64, 1024)
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			c, _ := NewCompressor(m.level, m.noContext, 15)
			zs := make([][]byte, len(msgs))
			for i, msg := range msgs {
				zs[i] = c.Append(nil, msg)
			}
			d := NewDecompressor(m.noContext)
			var src bytes.Reader
			buf := make([]byte, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(msgs[0])))
			for i := 0; b.Loop(); i++ {
				src.Reset(zs[i%len(zs)])
				d.Reset(&src, 1<<20)
				for {
					_, err := d.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkCompressHistory compares context takeover with the whole
// window, with a limited history, and no context at all, at BestSpeed
// (internal/deflate) and DefaultCompression (compress/flate) on JSON
// messages of three sizes: CPU per message and compression ratio.
func BenchmarkCompressHistory(b *testing.B) {
	levels := []struct {
		name  string
		level int
	}{{"BestSpeed", flate.BestSpeed}, {"Default", flate.DefaultCompression}}
	for _, size := range []int{256, 1024, 16 << 10} {
		// Enough messages that none is still in the window when it comes
		// round again.
		msgs := jsonMessages(max(64, (128<<10)/size), size)
		for _, l := range levels {
			for _, m := range []struct {
				name      string
				noContext bool
				history   int
			}{{"takeover", false, 0}, {"history1K", false, 1 << 10}, {"history4K", false, 4 << 10}, {"nocontext", true, 0}} {
				b.Run(fmt.Sprintf("%dB/%s/%s", size, l.name, m.name), func(b *testing.B) {
					c, _ := NewCompressor(l.level, m.noContext, 15)
					c.LimitHistory(m.history)
					dst := make([]byte, 0, 2*size)
					var in, out int
					b.ReportAllocs()
					b.SetBytes(int64(size))
					for i := 0; b.Loop(); i++ {
						msg := msgs[i%len(msgs)]
						dst = c.Append(dst[:0], msg)
						in, out = in+len(msg), out+len(dst)
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}
