package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
)

// BenchmarkInflate compares the Reader with compress/flate used as
// internal/wsflate used it: a pooled flate reader Reset per message with
// the history as dictionary, the payload followed by both tails, and the
// output copied into a 32 KiB history ring (here a plain copy into a
// buffer of that size stands for it). MB/s counts inflated bytes.
func BenchmarkInflate(b *testing.B) {
	type set struct {
		name string
		keep bool
		msgs [][]byte // compressed payloads, in order
		size int      // inflated bytes per round of msgs
		hist [][]byte // per message, the history flate needs as dict
	}
	mk := func(name string, keep bool, plain [][]byte) set {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
		s := set{name: name, keep: keep}
		var all []byte
		for _, m := range plain {
			if !keep {
				fw.Reset(&buf)
			}
			s.msgs = append(s.msgs, compressMsg(b, fw, &buf, m))
			if keep {
				s.hist = append(s.hist, bytes.Clone(all[max(0, len(all)-winSize):]))
				all = append(all, m...)
			} else {
				s.hist = append(s.hist, nil)
			}
			s.size += len(m)
		}
		return s
	}
	sets := []set{
		mk("json1K/takeover", true, jsonMessages(64, 1024, 11)),
		mk("json1K/nocontext", false, jsonMessages(64, 1024, 11)),
		mk("text16K", false, [][]byte{textData(16 << 10)}),
		mk("text256K", false, [][]byte{textData(256 << 10)}),
	}
	p := make([]byte, 4096)
	for _, s := range sets {
		b.Run(s.name+"/inflate", func(b *testing.B) {
			// One Reader across rounds: with history, each message is
			// preceded by the same bytes as when it was compressed, plus
			// older ones it never refers to.
			r := NewReader(s.keep)
			src := new(bytes.Reader)
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			for b.Loop() {
				for _, z := range s.msgs {
					src.Reset(z)
					r.Reset(src)
					for {
						_, err := r.Read(p)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
		b.Run(s.name+"/flate", func(b *testing.B) {
			fr := flate.NewReader(nil)
			ring := make([]byte, winSize)
			var in []byte
			src := new(bytes.Reader)
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			for b.Loop() {
				for i, z := range s.msgs {
					in = append(append(append(in[:0], z...), syncTail[:]...), 0x01, 0x00, 0x00, 0xff, 0xff)
					src.Reset(in)
					dict := s.hist[i]
					if s.keep {
						copy(ring, dict) // the ring rotation wsflate did
					}
					fr.(flate.Resetter).Reset(src, dict)
					for {
						n, err := fr.Read(p)
						if s.keep {
							copy(ring, p[:n])
						}
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
