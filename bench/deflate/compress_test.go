package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
	"github.com/starling-ws/starling/internal/wsflate"
)

// BenchmarkCompress measures the compressors alone, without a connection:
// one message per op, sync-flushed, through Starling's Compressor and
// through the compressors the others use at their default level 1:
// klauspost/compress (gws) and compress/flate (coder and gorilla). With
// takeover a compressor is kept from message to message; without, it is
// reset for each. Sockets make BenchmarkSend noisy; this isolates the
// compression. The others are named for the library they stand for
// (gws-klauspost, coder-flate), so that reports compare Starling with them.
func BenchmarkCompress(b *testing.B) {
	compressors := []struct {
		name string
		new  func(takeover bool) func(dst, msg []byte) []byte
	}{
		{"starling", newStarlingCompress},
		{"gws-klauspost", func(takeover bool) func(dst, msg []byte) []byte {
			fw, _ := kflate.NewWriter(nil, kflate.BestSpeed)
			return flateCompress(fw, takeover)
		}},
		{"coder-flate", func(takeover bool) func(dst, msg []byte) []byte {
			fw, _ := flate.NewWriter(nil, flate.BestSpeed)
			return flateCompress(fw, takeover)
		}},
	}
	for _, c := range compressors {
		for _, m := range []mode{takeover, noTakeover} {
			for _, n := range sizes {
				b.Run(c.name+"/"+m.String()+"/"+sizeName(n), func(b *testing.B) {
					compress := c.new(m == takeover)
					msgs := messages(n)
					var dst []byte
					b.SetBytes(int64(n))
					b.ReportAllocs()
					var in, out int
					for i := 0; b.Loop(); i++ {
						dst = compress(dst[:0], msgs[i%len(msgs)])
						in, out = in+n, out+len(dst)
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}

func newStarlingCompress(takeover bool) func(dst, msg []byte) []byte {
	c, err := wsflate.NewCompressor(flate.BestSpeed, !takeover, wsflate.MaxWindowBits)
	if err != nil {
		panic(err)
	}
	return c.Append
}

// flateWriter is what compress/flate's and klauspost's writers share.
type flateWriter interface {
	Write([]byte) (int, error)
	Flush() error
	Reset(w io.Writer)
}

// flateCompress returns a function compressing each message with fw into
// dst as permessage-deflate does: sync-flushed, the final 00 00 ff ff
// dropped.
func flateCompress(fw flateWriter, takeover bool) func(dst, msg []byte) []byte {
	var z bytes.Buffer
	fw.Reset(&z)
	return func(dst, msg []byte) []byte {
		z.Reset()
		if !takeover {
			fw.Reset(&z)
		}
		fw.Write(msg)
		fw.Flush()
		return append(dst, z.Bytes()[:z.Len()-4]...)
	}
}
