package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a recorded value is off by at most 1/2^subBits
// (under 1.6%) while the whole range of durations fits in a few thousand
// counters, whatever the number of samples.
const subBits = 6

const subCount = 1 << subBits

// Histogram counts durations in log-linear buckets. The zero value is
// empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts []int64
	n      int64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// bucketOf returns the bucket of a duration of v nanoseconds (v >= 0).
// Values below subCount have a bucket each; above, the top subBits+1 bits
// choose the bucket.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	exp := bits.Len64(v) - subBits - 1 // shift that leaves subBits+1 bits
	return (exp+1)<<subBits + int(v>>exp) - subCount
}

// lowerBound returns the smallest value in bucket i.
func lowerBound(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	exp := i>>subBits - 1
	return uint64(i&(subCount-1)+subCount) << exp
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	i := bucketOf(uint64(d))
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
	h.sum += d
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]int64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of samples.
func (h *Histogram) Count() int64 { return h.n }

// Max returns the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Min returns the smallest sample, exactly.
func (h *Histogram) Min() time.Duration { return h.min }

// Mean returns the average sample, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the sample at quantile q (0 < q <= 1): the upper end of
// the bucket holding it, clamped to the exact maximum, so a percentile is
// never reported lower than the truth by more than the bucket width.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(lowerBound(i+1)-1), h.max)
		}
	}
	return h.max
}

// Bin is one bar of a coarser histogram for plotting: the samples in
// [Lo, Hi).
type Bin struct {
	Lo, Hi time.Duration
	Count  int64
}

// Bins regroups the samples into n bins of equal width on a logarithmic
// scale from the smallest to the largest sample.
func (h *Histogram) Bins(n int) []Bin {
	if h.n == 0 || n <= 0 {
		return nil
	}
	lo, hi := math.Log(float64(max(h.min, 1))), math.Log(float64(h.max)+1)
	if hi <= lo {
		hi = lo + 1
	}
	bins := make([]Bin, n)
	edge := func(k int) time.Duration { return time.Duration(math.Exp(lo + (hi-lo)*float64(k)/float64(n))) }
	for k := range bins {
		bins[k].Lo, bins[k].Hi = edge(k), edge(k+1)
	}
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		v := math.Log(float64(max(lowerBound(i), 1)))
		k := int((v - lo) / (hi - lo) * float64(n))
		bins[min(max(k, 0), n-1)].Count += c
	}
	return bins
}
