package flatebench

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
)

// writer is the part of a flate.Writer both libraries share.
type writer interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

// resetter is flate.Resetter of both libraries.
type resetter interface {
	Reset(r io.Reader, dict []byte) error
}

type impl struct {
	name      string
	newWriter func(io.Writer, int) writer
	newReader func(io.Reader) io.ReadCloser
}

var impls = []impl{
	{"std",
		func(w io.Writer, level int) writer { fw, _ := stdflate.NewWriter(w, level); return fw },
		stdflate.NewReader},
	{"klauspost",
		func(w io.Writer, level int) writer { fw, _ := kpflate.NewWriter(w, level); return fw },
		kpflate.NewReader},
}

var levels = []struct {
	name  string
	level int
}{{"BestSpeed", 1}, {"Default", -1}}

// tail is what a receiver appends to each message: the sync flush marker
// the sender dropped, then an empty final block so the reader ends in EOF.
var tail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// jsonMessages returns n deterministic JSON-like messages of about size
// bytes (the generator of Starling's internal/wsflate benchmarks).
func jsonMessages(n, size int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	kinds := []string{"update", "presence", "message", "typing", "ack"}
	msgs := make([][]byte, n)
	for i := range msgs {
		b := []byte(`{"events":[`)
		for j := 0; len(b) < size-80; j++ {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"id":%d,"type":%q,"user":%q,"ts":%d,"score":%.3f,"ok":%t}`,
				r.IntN(1e6), kinds[r.IntN(len(kinds))], users[r.IntN(len(users))],
				1764000000000+r.Int64N(1e6), r.Float64()*100, r.IntN(2) == 0)
		}
		b = fmt.Appendf(b, `],"seq":%d}`, i)
		msgs[i] = b
	}
	return msgs
}

// compressAll compresses msgs as permessage-deflate messages.
func compressAll(im impl, level int, takeover bool, msgs [][]byte) [][]byte {
	var buf bytes.Buffer
	fw := im.newWriter(&buf, level)
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		buf.Reset()
		if !takeover {
			fw.Reset(&buf)
		}
		fw.Write(m)
		fw.Flush()
		out[i] = append(bytes.Clone(buf.Bytes()[:buf.Len()-4]), tail...)
	}
	return out
}

func BenchmarkCompress(b *testing.B) {
	msgs := jsonMessages(64, 1024)
	for _, im := range impls {
		for _, lv := range levels {
			for _, takeover := range []bool{true, false} {
				b.Run(fmt.Sprintf("%s/%s/takeover=%v", im.name, lv.name, takeover), func(b *testing.B) {
					var buf bytes.Buffer
					buf.Grow(4096)
					fw := im.newWriter(&buf, lv.level)
					in, out := 0, 0
					b.SetBytes(int64(len(msgs[0])))
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						m := msgs[i%len(msgs)]
						buf.Reset()
						if !takeover {
							fw.Reset(&buf) // what a pooled writer does per message
						}
						fw.Write(m)
						fw.Flush()
						in, out = in+len(m), out+buf.Len()-4
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	msgs := jsonMessages(64, 1024)
	for _, im := range impls {
		for _, takeover := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/takeover=%v", im.name, takeover), func(b *testing.B) {
				zs := compressAll(im, 1, takeover, msgs)
				fr := im.newReader(bytes.NewReader(nil))
				var src bytes.Reader
				out := make([]byte, 0, 64<<10) // history for takeover
				buf := make([]byte, 4096)
				b.SetBytes(int64(len(msgs[0])))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					k := i % len(zs)
					var dict []byte
					if takeover && k > 0 {
						dict = out[max(0, len(out)-32<<10):]
					}
					if k == 0 {
						out = out[:0]
					}
					src.Reset(zs[k])
					fr.(resetter).Reset(&src, dict)
					for {
						n, err := fr.Read(buf)
						if takeover {
							if len(out)+n > cap(out) {
								keep := out[len(out)-32<<10:]
								out = append(out[:0], keep...)
							}
							out = append(out, buf[:n]...)
						}
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
}

// BenchmarkNewWriter reports in B/op what one writer costs: created, then
// used for one message, as a connection with context takeover keeps it.
func BenchmarkNewWriter(b *testing.B) {
	msg := jsonMessages(1, 1024)[0]
	for _, im := range impls {
		for _, lv := range levels {
			b.Run(im.name+"/"+lv.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					fw := im.newWriter(io.Discard, lv.level)
					fw.Write(msg)
					fw.Flush()
				}
			})
		}
	}
}

// BenchmarkNewReader reports in B/op what one reader costs, used for one
// message.
func BenchmarkNewReader(b *testing.B) {
	msgs := jsonMessages(1, 1024)
	for _, im := range impls {
		z := compressAll(im, 1, false, msgs)[0]
		b.Run(im.name, func(b *testing.B) {
			var src bytes.Reader
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(z)
				fr := im.newReader(&src)
				io.Copy(io.Discard, fr)
			}
		})
	}
}

// TestRoundTrip checks that both libraries inflate what either produced.
func TestRoundTrip(t *testing.T) {
	msgs := jsonMessages(16, 1024)
	for _, from := range impls {
		for _, to := range impls {
			zs := compressAll(from, 1, false, msgs)
			for i, z := range zs {
				got, err := io.ReadAll(to.newReader(bytes.NewReader(z)))
				if err != nil || !bytes.Equal(got, msgs[i]) {
					t.Fatalf("%s -> %s message %d: %v", from.name, to.name, i, err)
				}
			}
		}
	}
}
