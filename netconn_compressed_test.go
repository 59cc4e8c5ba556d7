package starling_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/starling-ws/starling"
)

// TestNetConnCompressedSmallReads reads compressed messages through
// NetConn with a buffer smaller than each: the decompressor still holds
// the end of a message once its last frame is read, and the stream must
// deliver it before the next message's.
func TestNetConnCompressedSmallReads(t *testing.T) {
	modes := []starling.CompressionMode{starling.CompressionContextTakeover, starling.CompressionNoContextTakeover}
	for _, pipe := range []bool{true, false} {
		for _, mode := range modes {
			t.Run(fmt.Sprintf("pipe=%v/mode=%d", pipe, mode), func(t *testing.T) {
				checkGoroutines(t)
				client, server := chaosPair(t, chaosConfig{pipe: pipe, mode: mode})
				defer client.CloseNow()
				defer server.CloseNow()
				want := make([]byte, 20000)
				for i := range want {
					want[i] = chaosStreamByte(i)
				}
				w := starling.NetConn(context.Background(), client, starling.MessageBinary)
				r := starling.NetConn(context.Background(), server, starling.MessageBinary)
				errc := make(chan error, 1)
				go func() {
					for i := 0; i < len(want); i += 5000 {
						if _, err := w.Write(want[i : i+5000]); err != nil {
							errc <- err
							return
						}
					}
					errc <- w.Close()
				}()
				got, err := io.ReadAll(&smallReader{r, 2912})
				if err != nil {
					t.Fatalf("read %d bytes, then %v", len(got), err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("read %d bytes, want %d; first difference at %d", len(got), len(want), firstDifference(got, want))
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// smallReader reads at most n bytes at a time from r.
type smallReader struct {
	r io.Reader
	n int
}

func (s *smallReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
