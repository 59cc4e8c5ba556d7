package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/starling-ws/starling/bench/broadcast"
)

// raceSkip names the implementations not run under the race detector, and
// why (see race_test.go).
var raceSkip = map[string]string{}

// setup starts impl's server and n clients connected to it.
func setup(t *testing.T, impl string, n int, compress bool) (*broadcast.Server, *broadcast.Client) {
	t.Helper()
	s, err := broadcast.Start(impl, "127.0.0.1:0", compress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := broadcast.Dial(ctx, s.Addr().String(), n, compress, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := s.WaitConns(ctx, n); err != nil {
		t.Fatal(err)
	}
	return s, cl
}

// TestBroadcast checks that every server delivers every broadcast intact
// to every client, compressed exactly when compression was negotiated, at
// a size that fits one frame and one above 64 KiB (a 64-bit length, and
// fragments with nbio).
func TestBroadcast(t *testing.T) {
	const conns = 50
	for _, impl := range broadcast.Impls() {
		for _, compress := range []bool{false, true} {
			name := impl
			if compress {
				name += "/deflate"
			}
			t.Run(name, func(t *testing.T) {
				if why, ok := raceSkip[impl]; ok {
					t.Skip(why)
				}
				s, cl := setup(t, impl, conns, compress)
				k := 0
				for _, size := range []int{1 << 10, 70000} {
					for range 3 {
						k++
						want := broadcast.Payload(k, size)
						r := cl.Expect(want)
						ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
						if err := s.Broadcast(ctx, want); err != nil {
							t.Fatalf("message %d: Broadcast: %v", k, err)
						}
						_, err := cl.Wait(ctx, r)
						cancel()
						if err != nil {
							t.Fatalf("message %d (%d bytes): %v", k, size, err)
						}
						zipped := 0
						if compress {
							zipped = conns
						}
						if got := r.Compressed(); got != zipped {
							t.Fatalf("message %d: %d of %d connections received it compressed, want %d", k, got, conns, zipped)
						}
					}
				}
			})
		}
	}
}

// TestClientDetectsWrongMessage checks that the client's comparison can
// fail: a broadcast of another message than the one expected is reported.
func TestClientDetectsWrongMessage(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s, cl := setup(t, "starling", 3, compress)
		r := cl.Expect(broadcast.Payload(1, 1<<10))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := s.Broadcast(ctx, broadcast.Payload(2, 1<<10)); err != nil {
			t.Fatal(err)
		}
		_, err := cl.Wait(ctx, r)
		cancel()
		if err == nil {
			t.Errorf("compress %v: Wait accepted a different message", compress)
		}
	}
}

func TestPayloadDiffers(t *testing.T) {
	a, b := broadcast.Payload(1, 1<<10), broadcast.Payload(2, 1<<10)
	if len(a) != 1<<10 || len(b) != 1<<10 || string(a) == string(b) {
		t.Fatalf("Payload(1) and Payload(2): lengths %d, %d, equal %v", len(a), len(b), string(a) == string(b))
	}
}

func TestUnknownImpl(t *testing.T) {
	if _, err := broadcast.Start("nope", "127.0.0.1:0", false); err == nil {
		t.Fatal("Start with an unknown implementation returned nil")
	}
}
