package deflate

import (
	"container/heap"
	"math/rand/v2"
	"testing"
)

// kraft returns the Kraft sum of lens scaled by 2^15: exactly 2^15 for a
// complete code.
func kraft(lens []uint8) int {
	k := 0
	for _, l := range lens {
		if l > 0 {
			k += 1 << (15 - l)
		}
	}
	return k
}

type freqHeap []int

func (h freqHeap) Len() int           { return len(h) }
func (h freqHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h freqHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *freqHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *freqHeap) Pop() any          { x := (*h)[len(*h)-1]; *h = (*h)[:len(*h)-1]; return x }

// optimalCost is the cost of an unlimited Huffman code for freq, by the
// textbook heap construction: the sum of all merged weights.
func optimalCost(freq []uint32) int {
	h := freqHeap{}
	for _, f := range freq {
		if f > 0 {
			h = append(h, int(f))
		}
	}
	heap.Init(&h)
	total := 0
	for h.Len() > 1 {
		a, b := heap.Pop(&h).(int), heap.Pop(&h).(int)
		total += a + b
		heap.Push(&h, a+b)
	}
	return total
}

// TestHuffmanOptimal checks that codes are complete, within their limit,
// prefix-free by construction (canonical), and as short as the textbook
// construction whenever the limit does not bind.
func TestHuffmanOptimal(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	var h huffman
	c := newCode(numLitLen)
	for i := range 2000 {
		n, bits := 2+r.IntN(numLitLen-1), 14
		if i%2 == 0 {
			n, bits = 2+r.IntN(40), 6 // small weights: no limit binds
		}
		freq := make([]uint32, n)
		total := 0
		for j := range freq {
			if r.IntN(4) > 0 {
				freq[j] = uint32(r.IntN(1 << r.IntN(bits)))
				total += int(freq[j])
			}
		}
		freq[0], freq[n-1] = freq[0]+1, freq[n-1]+2 // at least two symbols
		h.build(&c, freq, 15)
		lens := c.lens[:n]
		if k := kraft(lens); k != 1<<15 {
			t.Fatalf("case %d: Kraft sum %d/32768: the code is not complete", i, k)
		}
		longest := 0
		for j, l := range lens {
			if (l > 0) != (freq[j] > 0) {
				t.Fatalf("case %d: symbol %d of frequency %d has length %d", i, j, freq[j], l)
			}
			longest = max(longest, int(l))
		}
		if longest > 15 {
			t.Fatalf("case %d: length %d over the limit", i, longest)
		}
		// A code deeper than 15 bits needs a total weight of at least the
		// Fibonacci number F(18) = 2584; below it the limit cannot bind.
		if total+3 < 2584 {
			if got, want := cost(freq, lens), optimalCost(freq); got != want {
				t.Fatalf("case %d: cost %d, optimal %d", i, got, want)
			}
		}
	}
}

// TestHuffmanLimit gives Fibonacci frequencies, whose optimal code is as
// deep as there are symbols, and checks that the limit holds and the code
// stays complete.
func TestHuffmanLimit(t *testing.T) {
	var h huffman
	for _, limit := range []int{7, 15} {
		freq := make([]uint32, numCodeLen)
		if limit == 15 {
			freq = make([]uint32, 30)
		}
		a, b := uint32(1), uint32(1)
		for i := range freq {
			freq[i] = a
			a, b = b, a+b
		}
		c := newCode(len(freq))
		h.build(&c, freq, limit)
		for sym, l := range c.lens {
			if l == 0 || int(l) > limit {
				t.Fatalf("limit %d: symbol %d has length %d", limit, sym, l)
			}
		}
		if k := kraft(c.lens); k != 1<<15 {
			t.Fatalf("limit %d: Kraft sum %d/32768", limit, k)
		}
	}
}

// TestHuffmanSingle checks the one-symbol code: one bit.
func TestHuffmanSingle(t *testing.T) {
	var h huffman
	c := newCode(numDist)
	freq := make([]uint32, numDist)
	freq[7] = 5
	h.build(&c, freq, 15)
	if c.lens[7] != 1 || countUsed(c.lens) != 1 {
		t.Fatalf("lengths %v, want only symbol 7 with 1 bit", c.lens)
	}
}
