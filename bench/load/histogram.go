package load

import (
	"math/bits"
	"time"
)

// subBits is the number of mantissa bits each power of two is split into:
// 32 buckets per octave, so a quantile is within about 3 % of the truth.
const subBits = 5

// Histogram counts durations in log-linear buckets. The zero value is
// empty and ready to use; it is not safe for concurrent use.
type Histogram struct {
	counts [64 << subBits]uint64
	n      uint64
}

func bucket(ns uint64) int {
	if ns < 1<<subBits {
		return int(ns)
	}
	e := bits.Len64(ns) - 1 - subBits
	return (e+1)<<subBits + int(ns>>e)&(1<<subBits-1)
}

// low returns the smallest duration in bucket i.
func low(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	return (1<<subBits | uint64(i&(1<<subBits-1))) << e
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
}

// Merge adds the counts of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Count returns the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the lower bound of the bucket holding quantile q
// (0 < q <= 1), or 0 if nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(low(i))
		}
	}
	return time.Duration(low(len(h.counts) - 1))
}
