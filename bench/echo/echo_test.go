package echo_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"
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

// TestSplitHeader checks that every implementation echoes a frame larger
// than the floor's 64 KiB buffer whose header arrives in two parts, the
// first holding the length but not the whole masking key.
func TestSplitHeader(t *testing.T) {
	const size = 1<<20 + 3
	for _, impl := range echo.Impls() {
		t.Run(impl, func(t *testing.T) {
			addr := start(t, impl)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			nc, br, _, err := ws.Dial(ctx, "ws://"+addr+"/")
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if br == nil {
				br = bufio.NewReader(nc)
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			want := load.Payload(size)
			h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: size, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
			var f bytes.Buffer
			if err := ws.WriteHeader(&f, h); err != nil {
				t.Fatal(err)
			}
			p := bytes.Clone(want)
			ws.Cipher(p, h.Mask, 0)
			f.Write(p)
			b := f.Bytes()
			if _, err := nc.Write(b[:12]); err != nil { // length, half the key
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			if _, err := nc.Write(b[12:]); err != nil {
				t.Fatal(err)
			}
			var got []byte
			for {
				rh, err := ws.ReadHeader(br)
				if err != nil {
					t.Fatal(err)
				}
				n := len(got)
				got = append(got, make([]byte, rh.Length)...)
				if _, err := io.ReadFull(br, got[n:]); err != nil {
					t.Fatal(err)
				}
				if rh.Fin {
					break
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("echo of %d bytes differs from the %d sent", len(got), size)
			}
		})
	}
}

// TestBuffersReused checks that no echo server allocates a buffer of the
// message's size per message: each reuses its buffers as its library's
// fast path documents (nbio only with ReleaseWebsocketPayload, which an
// engine of one's own leaves off). The server runs in the test's process,
// the load client allocates nothing per message.
func TestBuffersReused(t *testing.T) {
	const size, msgs = 64 << 10, 200
	for _, impl := range echo.Impls() {
		t.Run(impl, func(t *testing.T) {
			addr := start(t, impl)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := load.Dial(ctx, addr, nil, size)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echoN := func(n int) {
				for range n {
					if err := c.Send(); err != nil {
						t.Fatal(err)
					}
					if err := c.Receive(); err != nil {
						t.Fatal(err)
					}
				}
			}
			echoN(20) // warm up pools and buffers
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			echoN(msgs)
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / msgs; per > size/4 {
				t.Errorf("%d bytes allocated per %d-byte message", per, size)
			}
		})
	}
}

func TestUnknownImpl(t *testing.T) {
	if err := echo.Serve(context.Background(), "nope", "127.0.0.1:0", nil); err == nil {
		t.Fatal("Serve with an unknown implementation returned nil")
	}
}
