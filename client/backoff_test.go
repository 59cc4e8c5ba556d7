package client

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	p := &ReconnectPolicy{MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	for n := 1; n <= 10; n++ {
		ceil := min(p.MinDelay<<n, p.MaxDelay)
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 1000 {
			d := p.delay(n)
			if d < p.MinDelay || d > ceil {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", n, d, p.MinDelay, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the draws spread over most of the range.
		if spread := ceil - p.MinDelay; hi-lo < spread/2 {
			t.Errorf("attempt %d: delays span %v to %v of [%v, %v]", n, lo, hi, p.MinDelay, ceil)
		}
	}
	if d := (&ReconnectPolicy{}).delay(1); d < DefaultMinDelay || d > 2*DefaultMinDelay {
		t.Errorf("default first delay %v, want within [%v, %v]", d, DefaultMinDelay, 2*DefaultMinDelay)
	}
	if d := (&ReconnectPolicy{}).delay(100); d > DefaultMaxDelay {
		t.Errorf("delay %v over the default maximum %v", d, DefaultMaxDelay)
	}
}
