package starling_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// echoHandler accepts with opts and echoes every message.
func echoHandler(opts *starling.AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	})
}

// newEchoServer starts an echo server with opts and returns its ws:// URL.
func newEchoServer(t *testing.T, opts *starling.AcceptOptions) string {
	t.Helper()
	srv := httptest.NewServer(echoHandler(opts))
	t.Cleanup(srv.Close)
	return wsURL(srv)
}

func TestCompressionEcho(t *testing.T) {
	modes := map[string]starling.CompressionOptions{
		"takeover":                    {Mode: starling.CompressionContextTakeover},
		"takeover with 1 KiB history": {Mode: starling.CompressionContextTakeover, History: 1 << 10},
		"no takeover":                 {Mode: starling.CompressionNoContextTakeover},
	}
	for sname, sopts := range modes {
		for cname, copts := range modes {
			smode, cmode := sopts.Mode, copts.Mode
			t.Run("server "+sname+", client "+cname, func(t *testing.T) {
				checkGoroutines(t)
				url := newEchoServer(t, &starling.AcceptOptions{Compression: sopts})
				c, resp, err := starling.Dial(context.Background(), url, &starling.DialOptions{Compression: copts})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				ext := resp.Header.Get("Sec-WebSocket-Extensions")
				if !strings.HasPrefix(ext, "permessage-deflate") {
					t.Fatalf("Sec-WebSocket-Extensions = %q, want permessage-deflate", ext)
				}
				noContext := smode == starling.CompressionNoContextTakeover || cmode == starling.CompressionNoContextTakeover
				if got := strings.Contains(ext, "server_no_context_takeover"); got != noContext {
					t.Errorf("response %q: server_no_context_takeover present = %v, want %v", ext, got, noContext)
				}
				// 100 messages in a row exercise the shared window; sizes
				// straddle the threshold and a fragment boundary.
				for i := range 100 {
					msg := fmt.Sprintf(`{"seq":%d,"payload":%q}`, i, strings.Repeat("chatty json ", i*40))
					if err := c.Write(context.Background(), starling.MessageText, []byte(msg)); err != nil {
						t.Fatal(err)
					}
					_, got, err := c.Read(context.Background())
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if string(got) != msg {
						t.Fatalf("message %d: echo differs", i)
					}
				}
				if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestCompressionStreamingWriter(t *testing.T) {
	for _, history := range []int{0, 1 << 10} {
		t.Run(fmt.Sprintf("history %d", history), func(t *testing.T) { testStreamingWriter(t, history) })
	}
}

func testStreamingWriter(t *testing.T, history int) {
	opts := starling.CompressionOptions{Mode: starling.CompressionContextTakeover, History: history}
	url := newEchoServer(t, &starling.AcceptOptions{ReadLimit: 64 << 20, Compression: opts})
	c, _, err := starling.Dial(context.Background(), url, &starling.DialOptions{ReadLimit: 64 << 20, Compression: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// A 4 MiB message written in pieces goes out as several compressed
	// fragments; the echo comes back whole.
	var want bytes.Buffer
	w, err := c.Writer(context.Background(), starling.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; want.Len() < 4<<20; i++ {
		piece := fmt.Appendf(nil, "line %d of a long log\n", i)
		want.Write(piece)
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(context.Background())
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("echo of %d bytes: got %d bytes, %v", want.Len(), len(got), err)
	}
}

func TestCompressionDeclinedWhenServerDisablesIt(t *testing.T) {
	url := newEchoServer(t, nil)
	c, resp, err := starling.Dial(context.Background(), url, &starling.DialOptions{Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("server without compression answered %q", ext)
	}
	msg := strings.Repeat("plain ", 100)
	if err := c.Write(context.Background(), starling.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(context.Background()); err != nil || string(got) != msg {
		t.Fatalf("echo = %d bytes, %v", len(got), err)
	}
}

func TestCompressionBombStopsAtReadLimit(t *testing.T) {
	result := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			ReadLimit:   1 << 20,
			Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		})
		if err != nil {
			result <- err
			return
		}
		_, _, err = c.Read(context.Background())
		result <- err
	}))
	t.Cleanup(srv.Close)
	c, _, err := starling.Dial(context.Background(), wsURL(srv), &starling.DialOptions{
		Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover, Level: 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// 16 MiB of zeros compresses to about 16 KB; the server must stop at
	// its 1 MiB limit with 1009.
	w, err := c.Writer(context.Background(), starling.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 16 {
		if _, err := w.Write(zeros); err != nil {
			break // the server may close before we finish
		}
	}
	w.Close()
	if err := <-result; starling.CloseStatus(err) != starling.StatusMessageTooBig {
		t.Fatalf("server read: %v, want 1009", err)
	}
	if _, _, err := c.Read(context.Background()); starling.CloseStatus(err) != starling.StatusMessageTooBig {
		t.Fatalf("client saw %v, want the server's 1009", err)
	}
}

func TestSetCompressionOffKeepsTheWindowConsistent(t *testing.T) {
	url := newEchoServer(t, &starling.AcceptOptions{Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover}})
	c, _, err := starling.Dial(context.Background(), url, &starling.DialOptions{Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i := range 20 {
		c.SetCompression(i%3 != 0)
		msg := strings.Repeat(fmt.Sprintf("message %d ", i), 50)
		if err := c.Write(context.Background(), starling.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(context.Background()); err != nil || string(got) != msg {
			t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// TestCompressionOptionsChecked checks that options compression cannot
// honour fail as the connection opens: Dial refuses them before sending
// anything, and Accept answers 500, the server's fault. They used to be
// negotiated, and only the first compressed message failed.
func TestCompressionOptionsChecked(t *testing.T) {
	bad := []starling.CompressionOptions{
		{Mode: starling.CompressionContextTakeover, Level: 10},
		{Mode: starling.CompressionNoContextTakeover, Level: -3},
		{Mode: starling.CompressionContextTakeover, ServerMaxWindowBits: 16},
		{Mode: starling.CompressionContextTakeover, ClientMaxWindowBits: 7},
		{Mode: starling.CompressionContextTakeover, History: -1},
	}
	for _, o := range bad {
		_, _, err := starling.Dial(context.Background(), "ws://127.0.0.1:1/", &starling.DialOptions{Compression: o})
		if !errors.Is(err, starling.ErrInvalidRequest) || !strings.Contains(err.Error(), "Compression") {
			t.Errorf("Dial with %+v: error %v, want an invalid Compression in the chain of ErrInvalidRequest", o, err)
		}

		accepted := make(chan error, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := starling.Accept(w, r, &starling.AcceptOptions{Compression: o})
			if err == nil {
				c.CloseNow()
			}
			accepted <- err
		}))
		_, _, err = starling.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), &starling.DialOptions{
			Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		})
		var he *starling.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusInternalServerError {
			t.Errorf("Accept with %+v: the client's Dial got %v, want a 500 refusal", o, err)
		}
		if err := <-accepted; err == nil || !strings.Contains(err.Error(), "AcceptOptions.Compression") {
			t.Errorf("Accept with %+v returned %v, want an invalid AcceptOptions.Compression", o, err)
		}
		srv.Close()
	}
}
