package starling

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// TestCompressedFragmentsFromFlate has a raw peer compress a stream of
// messages with compress/flate at its best compression, keeping the
// context (RFC 7692 section 7.2.1 with context takeover), sync-flushing
// inside messages now and then, and cut each payload into fragments of
// random sizes, empty ones included, with pings between them (RFC 6455
// section 5.4). The Starling side reads them through Reader in small
// reads, Read and ReadSlice in turn: every message must arrive intact.
func TestCompressedFragmentsFromFlate(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPairDeflate(t, r, tr, true)
		rnd := rand.New(rand.NewPCG(4, 2))
		var msgs [][]byte
		for i := range 30 {
			switch i % 4 {
			case 0:
				msgs = append(msgs, randomBytes(rnd.IntN(20_000), uint64(i)))
			case 1:
				msgs = append(msgs, bytes.Repeat([]byte("fragmented and compressed; "), rnd.IntN(3000)))
			case 2:
				msgs = append(msgs, nil)
			default:
				// Repeats an earlier message: a reference into the window.
				msgs = append(msgs, msgs[rnd.IntN(i)])
			}
		}
		go func() {
			rnd := rand.New(rand.NewPCG(5, 3)) // the sender's own
			var z bytes.Buffer
			fw, _ := flate.NewWriter(&z, flate.BestCompression)
			for _, m := range msgs {
				z.Reset()
				for rest := m; len(rest) > 0; {
					k := min(len(rest), 1+rnd.IntN(5000))
					fw.Write(rest[:k])
					rest = rest[k:]
					if rnd.IntN(3) == 0 {
						fw.Flush()
					}
				}
				fw.Flush()
				if p.sendFragments(z.Bytes()[:z.Len()-4], rnd) != nil {
					return
				}
			}
		}()
		ctx := dialCtx(t)
		for i, want := range msgs {
			var got []byte
			var err error
			switch i % 3 {
			case 0:
				var mr io.Reader
				if _, mr, err = c.Reader(ctx); err == nil {
					got, err = readSmall(mr, rnd)
				}
			case 1:
				_, got, err = c.Read(ctx)
			default:
				_, got, err = c.ReadSlice(ctx)
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("message %d (%d bytes): %d bytes, %v", i, len(want), len(got), err)
			}
		}
	})
}

// sendFragments sends payload as one compressed binary message in
// fragments of random sizes, some empty, with pings between them.
func (p *rawPeer) sendFragments(payload []byte, rnd *rand.Rand) error {
	f := rawFrame{rsv: 0x40, op: 0x2}
	for {
		k := min(len(payload), []int{0, 1, 100, 4000}[rnd.IntN(4)])
		f.payload, payload = payload[:k], payload[k:]
		f.fin = len(payload) == 0 && rnd.IntN(2) == 0
		if err := p.send(f); err != nil {
			return err
		}
		if f.fin {
			return nil
		}
		f = rawFrame{op: 0x0}
		if rnd.IntN(4) == 0 {
			if err := p.send(rawFrame{fin: true, op: 0x9, payload: []byte("ping")}); err != nil {
				return err
			}
		}
	}
}

// readSmall reads r to its end in reads of a few bytes.
func readSmall(r io.Reader, rnd *rand.Rand) ([]byte, error) {
	var out []byte
	for {
		p := make([]byte, 1+rnd.IntN(7))
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
