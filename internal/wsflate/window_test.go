package wsflate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var w window
	var all []byte
	for range 2000 {
		p := make([]byte, r.IntN(5000))
		if r.IntN(50) == 0 {
			p = make([]byte, windowSize+r.IntN(100))
		}
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		w.write(p)
		all = append(all, p...)
		if r.IntN(3) == 0 {
			want := all[max(0, len(all)-windowSize):]
			if got := w.bytes(); !bytes.Equal(got, want) {
				t.Fatalf("after %d bytes: window holds %d bytes, not the last %d", len(all), len(got), len(want))
			}
		}
	}
}
