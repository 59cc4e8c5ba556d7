package client

import (
	"math/rand/v2"
	"time"
)

// delay returns the wait before reconnect attempt n (from 1): uniform in
// [MinDelay, min(MaxDelay, MinDelay·2ⁿ)].
func (p *ReconnectPolicy) delay(n int) time.Duration {
	lo, hi := p.MinDelay, p.MaxDelay
	if lo <= 0 {
		lo = DefaultMinDelay
	}
	if hi <= 0 {
		hi = DefaultMaxDelay
	}
	if hi < lo {
		hi = lo
	}
	ceil := lo
	for i := 0; i < n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	return lo + time.Duration(rand.Int64N(int64(ceil-lo)+1))
}
