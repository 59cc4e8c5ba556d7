package starling_test

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// fragmentingEcho accepts with opts and echoes every message, written
// through a Writer in pieces of varying sizes, with its own compression
// switched off for every third message.
func fragmentingEcho(opts *starling.AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for i := 0; ; i++ {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			c.SetCompression(i%3 != 2)
			if err := writePieces(ctx, c, typ, p, i); err != nil {
				return
			}
		}
	})
}

// writePieces writes p as one message through a Writer, in pieces whose
// sizes vary with seed, from a byte to more than a fragment.
func writePieces(ctx context.Context, c *starling.Conn, typ starling.MessageType, p []byte, seed int) error {
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	sizes := []int{1, 7, 1000, 40 << 10, 100 << 10}
	for k := seed; len(p) > 0; k++ {
		n := min(len(p), sizes[k%len(sizes)])
		if _, err := w.Write(p[:n]); err != nil {
			w.Close()
			return err
		}
		p = p[n:]
	}
	return w.Close()
}

// mixedMessage returns message i of a mix: chatty JSON, random bytes,
// long runs, data repeating 5000 bytes back, messages below the
// compression threshold, empty ones and one larger than many fragments.
func mixedMessage(r *rand.Rand, i int) []byte {
	switch i % 7 {
	case 0:
		var b bytes.Buffer
		for b.Len() < r.IntN(6000) {
			fmt.Fprintf(&b, `{"seq":%d,"user":"user%d","ok":%t},`, i, r.IntN(20), r.IntN(2) == 0)
		}
		return b.Bytes()
	case 1:
		b := make([]byte, r.IntN(20_000))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return b
	case 2:
		return bytes.Repeat([]byte{byte('a' + i%26)}, r.IntN(70_000))
	case 3:
		half := make([]byte, 5000)
		for j := range half {
			half[j] = byte(r.Uint32())
		}
		return append(append([]byte(nil), half...), half...)
	case 4:
		return []byte(strings.Repeat("x", r.IntN(100)))
	case 5:
		return nil
	default:
		var b bytes.Buffer
		for b.Len() < 300_000 {
			fmt.Fprintf(&b, "line %d of message %d: %x\n", b.Len(), i, r.Uint64())
		}
		return b.Bytes()
	}
}

// TestCompressionNegotiationMatrix connects Starling to Starling over
// loopback for combinations of the negotiated parameters of RFC 7692
// section 7.1 (server_no_context_takeover, client_no_context_takeover,
// server_max_window_bits and client_max_window_bits 8..15) with the
// compression levels and History settings, and sends a stream of
// messages of mixed compressibility both ways: Write and Writer in
// fragments, with compression switched off and on between messages on
// both sides. Every message must arrive intact.
func TestCompressionNegotiationMatrix(t *testing.T) {
	levels := []int{0, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly, 2}
	histories := []int{0, 300, 5000, 1 << 15}
	n := 0
	for _, serverNoContext := range []bool{false, true} {
		for _, clientNoContext := range []bool{false, true} {
			for sbits := 8; sbits <= 15; sbits++ {
				cbits := 8 + (sbits*3+boolInt(serverNoContext))%8
				n++
				level, history := levels[n%len(levels)], histories[n%len(histories)]
				name := fmt.Sprintf("server_nct=%t/client_nct=%t/server_bits=%d/client_bits=%d/level=%d/history=%d",
					serverNoContext, clientNoContext, sbits, cbits, level, history)
				t.Run(name, func(t *testing.T) {
					sopts := starling.CompressionOptions{
						Mode: modeFor(serverNoContext), Level: level, History: history,
						ServerMaxWindowBits: sbits, Threshold: 64,
					}
					copts := starling.CompressionOptions{
						Mode: modeFor(clientNoContext), Level: levels[(n+2)%len(levels)], History: histories[(n+1)%len(histories)],
						ClientMaxWindowBits: cbits, Threshold: -1,
					}
					checkNegotiatedStream(t, sopts, copts, uint64(n))
				})
			}
		}
	}
}

func modeFor(noContext bool) starling.CompressionMode {
	if noContext {
		return starling.CompressionNoContextTakeover
	}
	return starling.CompressionContextTakeover
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkNegotiatedStream(t *testing.T, sopts, copts starling.CompressionOptions, seed uint64) {
	srv := httptest.NewServer(fragmentingEcho(&starling.AcceptOptions{Compression: sopts}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, resp, err := starling.Dial(ctx, wsURL(srv), &starling.DialOptions{Compression: copts})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions = %q", ext)
	}
	for _, want := range []string{
		fmt.Sprintf("server_max_window_bits=%d", windowOr15(sopts.ServerMaxWindowBits)),
		fmt.Sprintf("client_max_window_bits=%d", windowOr15(copts.ClientMaxWindowBits)),
	} {
		if !strings.Contains(ext, want) && !strings.HasSuffix(want, "=15") {
			t.Fatalf("response %q lacks %s", ext, want)
		}
	}
	r := rand.New(rand.NewPCG(seed, 99))
	for i := range 28 {
		msg := mixedMessage(r, i)
		c.SetCompression(i%4 != 3)
		typ := starling.MessageBinary
		if i%2 == 0 {
			err = c.Write(ctx, typ, msg)
		} else {
			err = writePieces(ctx, c, typ, msg, i)
		}
		if err != nil {
			t.Fatalf("message %d: write: %v", i, err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("message %d (%d bytes): %v", i, len(msg), err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d (%d bytes): echo of %d bytes differs", i, len(msg), len(got))
		}
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func windowOr15(bits int) int {
	if bits == 0 {
		return 15
	}
	return bits
}

// TestCompressionWindowBitsDirection checks that each side compresses
// within the window negotiated for it (RFC 7692 section 7.1.2): the
// server within server_max_window_bits and the client within
// client_max_window_bits. A message of 5000 random bytes twice over
// compresses only through a back-reference 5000 bytes long, so to about
// half its size where the window is 2^13 or more and not at all below.
func TestCompressionWindowBitsDirection(t *testing.T) {
	for _, bits := range [][2]int{{9, 15}, {15, 9}, {12, 13}, {13, 12}, {8, 8}, {15, 15}} {
		sbits, cbits := bits[0], bits[1]
		t.Run(fmt.Sprintf("server=%d/client=%d", sbits, cbits), func(t *testing.T) {
			opts := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Threshold: -1,
				ServerMaxWindowBits: sbits, ClientMaxWindowBits: cbits}
			url := newEchoServer(t, &starling.AcceptOptions{Compression: opts})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, _, err := starling.Dial(ctx, url, &starling.DialOptions{Compression: opts})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			msg := mixedMessage(rand.New(rand.NewPCG(1, 2)), 3)
			before := c.Stats()
			if err := c.Write(ctx, starling.MessageBinary, msg); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.Read(ctx)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo: %d bytes, %v", len(got), err)
			}
			after := c.Stats()
			sent, received := after.BytesWritten-before.BytesWritten, after.BytesRead-before.BytesRead
			if far := sent < int64(len(msg))*3/4; far != (cbits >= 13) {
				t.Errorf("client_max_window_bits=%d: the client sent %d bytes for %d", cbits, sent, len(msg))
			}
			if far := received < int64(len(msg))*3/4; far != (sbits >= 13) {
				t.Errorf("server_max_window_bits=%d: the server sent %d bytes for %d", sbits, received, len(msg))
			}
		})
	}
}
