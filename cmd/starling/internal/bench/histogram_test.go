package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 123456789, 1 << 40, 1<<63 - 1} {
		i := bucketOf(v)
		if lo, next := lowerBound(i), lowerBound(i+1); v < lo || v >= next {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, lo, next)
		}
		if i > 0 && bucketOf(lowerBound(i)-1) != i-1 {
			t.Errorf("bucket %d does not follow bucket %d", i, i-1)
		}
	}
}

func TestQuantilesAgainstSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var all []time.Duration
	for range 100000 {
		d := time.Duration(r.ExpFloat64() * float64(200*time.Microsecond))
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 1} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("q%v = %v, exact %v: outside one bucket above", q, got, exact)
		}
	}
	if h.Max() != all[len(all)-1] || h.Min() != all[0] || h.Count() != int64(len(all)) {
		t.Errorf("max/min/count = %v/%v/%d, want %v/%v/%d", h.Max(), h.Min(), h.Count(), all[len(all)-1], all[0], len(all))
	}
}

func TestMergeAndBins(t *testing.T) {
	var a, b Histogram
	for i := range 1000 {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i) * time.Millisecond)
	}
	a.Merge(&b)
	if a.Count() != 2000 || a.Max() != 999*time.Millisecond || a.Min() != 0 {
		t.Fatalf("merged count/max/min = %d/%v/%v", a.Count(), a.Max(), a.Min())
	}
	var total int64
	for _, bin := range a.Bins(30) {
		total += bin.Count
		if bin.Hi < bin.Lo {
			t.Errorf("inverted bin range %v", bin)
		}
	}
	if total != 2000 {
		t.Errorf("bins hold %d samples, want 2000", total)
	}
	if q := a.Quantile(0.5); q < 999*time.Microsecond || q > 1016*time.Microsecond {
		t.Errorf("median of the merged histogram = %v, want about 1ms", q)
	}
}
