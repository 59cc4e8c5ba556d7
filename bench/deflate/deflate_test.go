package deflate

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestPairs checks that two ends of the same library negotiate the mode
// asked for and carry messages of every size intact, both ways, several
// in a row (so that context takeover's shared window is exercised).
func TestPairs(t *testing.T) {
	for _, lib := range libraries {
		for _, m := range lib.modes {
			t.Run(lib.name+"/"+m.String(), func(t *testing.T) {
				s := startServer(t, lib, m)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				cl, resp, err := lib.dial(ctx, s.url(), m)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.close()
				srv := s.accepted(t)
				defer srv.close()
				if err := checkNegotiated(resp.Header, m); err != nil {
					t.Fatal(err)
				}
				for _, n := range sizes {
					for _, p := range messages(n)[:3] {
						roundTrip(t, cl, srv, p)
						roundTrip(t, srv, cl, p)
					}
				}
			})
		}
	}
}

// roundTrip sends p from one end and checks that the other receives it.
func roundTrip(t testing.TB, from, to endpoint, p []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- from.write(p) }()
	got, err := to.read(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, p) {
		t.Fatalf("sent %d bytes, received %d different ones", len(p), len(got))
	}
}

// TestServerCompresses checks, against the raw client the benchmarks use,
// that every library's server really compresses what it sends and
// decompresses what it receives, in both modes.
func TestServerCompresses(t *testing.T) {
	for _, lib := range libraries {
		for _, m := range lib.modes[1:] {
			t.Run(lib.name+"/"+m.String(), func(t *testing.T) {
				s := startServer(t, lib, m)
				rc, err := dialRaw(s.addr, m)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.nc.Close()
				srv := s.accepted(t)
				defer srv.close()

				p := payload(16<<10, 1)
				if err := srv.write(p); err != nil {
					t.Fatal(err)
				}
				compressed, wire, err := rc.readMessage()
				if err != nil {
					t.Fatal(err)
				}
				if !compressed || len(wire) > len(p)/2 {
					t.Fatalf("server sent %d bytes for %d, compressed %v", len(wire), len(p), compressed)
				}
				if got, err := inflate(wire); err != nil || !bytes.Equal(got, p) {
					t.Fatalf("server's message inflates to %d bytes, error %v", len(got), err)
				}

				msgs := messages(1 << 10)
				warm, cycle := receiveStream(msgs, m)
				go rc.nc.Write(append(append(warm, cycle...), cycle...))
				passes := 2 // cycle twice
				if len(warm) > 0 {
					passes++
				}
				for pass := range passes {
					for i, want := range msgs {
						got, err := srv.read(nil)
						if err != nil {
							t.Fatalf("pass %d, message %d: %v", pass, i, err)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("pass %d, message %d: received %d bytes, not the %d sent", pass, i, len(got), len(want))
						}
					}
				}
			})
		}
	}
}
