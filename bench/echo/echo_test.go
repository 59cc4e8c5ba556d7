package echo_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/starling-ws/starling/bench/echo"
	"github.com/starling-ws/starling/bench/load"
)

// start runs impl's echo server on a loopback port for the test's lifetime.
func start(t *testing.T, impl string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- echo.Serve(ctx, impl, "127.0.0.1:0", func(a net.Addr) { addrc <- a.String() })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve(%s): %v", impl, err)
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-errc:
		t.Fatalf("Serve(%s): %v", impl, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve(%s): not listening after 10s", impl)
	}
	return ""
}

// TestEcho checks that every implementation sends each message back
// unchanged, at each benchmarked size including one above 1 MiB.
func TestEcho(t *testing.T) {
	for _, impl := range echo.Impls() {
		t.Run(impl, func(t *testing.T) {
			addr := start(t, impl)
			for _, size := range []int{16, 125, 126, 1 << 10, 16 << 10, 65536, 1<<20 + 3} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := load.Dial(ctx, addr, nil, size)
				cancel()
				if err != nil {
					t.Fatalf("size %d: dial: %v", size, err)
				}
				want := load.Payload(size)
				buf := make([]byte, size)
				for i := range 3 {
					if err := c.Send(); err != nil {
						t.Fatalf("size %d: send %d: %v", size, i, err)
					}
					got, err := c.ReceiveInto(buf)
					if err != nil {
						t.Fatalf("size %d: receive %d: %v", size, i, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("size %d: echo %d differs from the message sent", size, i)
					}
				}
				c.Close()
			}
		})
	}
}

func TestUnknownImpl(t *testing.T) {
	if err := echo.Serve(context.Background(), "nope", "127.0.0.1:0", nil); err == nil {
		t.Fatal("Serve with an unknown implementation returned nil")
	}
}
