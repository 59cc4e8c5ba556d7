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

// TestDelayBounds checks the bounds a policy with unset or inconsistent
// fields falls back to.
func TestDelayBounds(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		p      ReconnectPolicy
		n      int
		lo, hi time.Duration // the draws must stay within [lo, hi] ...
		above  time.Duration // ... and some must exceed above
	}{
		// A zero MaxDelay means DefaultMaxDelay, not MinDelay.
		{"default max", ReconnectPolicy{MinDelay: 10 * ms}, 10, 10 * ms, 10 * ms << 10, 10 * ms},
		// A MaxDelay below MinDelay cannot make the delay shorter than
		// MinDelay, nor an empty range to draw from.
		{"max below min", ReconnectPolicy{MinDelay: 50 * ms, MaxDelay: 10 * ms}, 3, 50 * ms, 50 * ms, -1},
		{"max equals min", ReconnectPolicy{MinDelay: 50 * ms, MaxDelay: 50 * ms}, 3, 50 * ms, 50 * ms, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hi := time.Duration(0)
			for range 1000 {
				d := tt.p.delay(tt.n)
				if d < tt.lo || d > tt.hi {
					t.Fatalf("delay %v outside [%v, %v]", d, tt.lo, tt.hi)
				}
				hi = max(hi, d)
			}
			if hi <= tt.above {
				t.Errorf("delays never exceed %v", tt.above)
			}
		})
	}
}
