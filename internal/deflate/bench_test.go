package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkEncode compresses JSON messages of each size, one per op, with
// the Encoder and with compress/flate at BestSpeed (a writer kept for
// takeover, Reset for each message without), reporting the ratio.
func BenchmarkEncode(b *testing.B) {
	for _, size := range []int{256, 1 << 10, 16 << 10, 256 << 10} {
		// Enough messages that none is still in the window when it comes
		// round again.
		msgs := jsonMessages(max(32, (128<<10)/size), size, rand.New(rand.NewPCG(1, 2)))
		for _, keep := range []bool{true, false} {
			name := fmt.Sprintf("%dB/takeover=%t", size, keep)
			b.Run("starling/"+name, func(b *testing.B) {
				e := NewEncoder(MaxWindow, keep)
				var dst []byte
				run(b, msgs, func(m []byte) int {
					dst = e.Flush(e.Write(dst[:0], m))
					return len(dst)
				})
			})
			b.Run("flate/"+name, func(b *testing.B) {
				var z bytes.Buffer
				fw, _ := flate.NewWriter(&z, flate.BestSpeed)
				run(b, msgs, func(m []byte) int {
					z.Reset()
					if !keep {
						fw.Reset(&z)
					}
					fw.Write(m)
					fw.Flush()
					return z.Len() - 4
				})
			})
		}
	}
}

func run(b *testing.B, msgs [][]byte, compress func([]byte) int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(msgs[0])))
	var in, out int
	for i := 0; b.Loop(); i++ {
		m := msgs[i%len(msgs)]
		in, out = in+len(m), out+compress(m)
	}
	b.ReportMetric(float64(out)/float64(in), "ratio")
}
