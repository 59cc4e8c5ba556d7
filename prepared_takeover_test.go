package starling_test

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestPreparedMessageKeepsTakeoverConsistent interleaves prepared
// messages with ordinary ones, compressed and not, on a server with
// context takeover at each compression level, with and without a
// History, and in small windows: the messages after a prepared one refer
// to the window the client has, so each must still arrive intact.
func TestPreparedMessageKeepsTakeoverConsistent(t *testing.T) {
	for _, level := range []int{0, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
		for _, history := range []int{0, 300} {
			for _, bits := range []int{0, 9} {
				t.Run(fmt.Sprintf("level=%d/history=%d/bits=%d", level, history, bits), func(t *testing.T) {
					opts := starling.CompressionOptions{Mode: starling.CompressionContextTakeover,
						Level: level, History: history, ServerMaxWindowBits: bits, Threshold: 16}
					checkPreparedStream(t, opts)
				})
			}
		}
	}
}

func checkPreparedStream(t *testing.T, opts starling.CompressionOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := rand.New(rand.NewPCG(3, 4))
	var want [][]byte
	for i := range 40 {
		want = append(want, mixedMessage(r, i%5))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := starling.Accept(w, req, &starling.AcceptOptions{Compression: opts})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for i, m := range want {
			c.SetCompression(i%5 != 4)
			if i%3 == 1 {
				pm, err := starling.NewPreparedMessage(starling.MessageBinary, m)
				if err == nil {
					err = c.WritePrepared(ctx, pm)
				}
				if err != nil {
					return
				}
				continue
			}
			if c.Write(ctx, starling.MessageBinary, m) != nil {
				return
			}
		}
		c.Read(ctx) // until the client closes
	}))
	defer srv.Close()
	c, _, err := starling.Dial(ctx, wsURL(srv), &starling.DialOptions{Compression: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i, m := range want {
		_, got, err := c.Read(ctx)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes): %d bytes, %v", i, len(m), len(got), err)
		}
	}
	c.Close(starling.StatusNormalClosure, "")
}
