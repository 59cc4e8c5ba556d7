package hub_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/starlingtest"
)

// TestLeaveThenSubscribeKeepsOrder makes a connection leave while the hub
// has taken a message off its queue but waits to write it, behind a
// message the server writes itself, and subscribe again at once. The
// message from before Leave may still arrive, but not after those
// published once the connection subscribed again, even if it left and
// subscribed once more in between.
func TestLeaveThenSubscribeKeepsOrder(t *testing.T) {
	ctx := context.Background()
	h := hub.New(nil)
	for range 30 {
		client, srv, err := starlingtest.Pipe(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Subscribe(srv, "x"); err != nil {
			t.Fatal(err)
		}
		// The pipe buffers nothing: this write holds the write lock
		// until the client reads.
		own := make(chan error, 1)
		go func() { own <- srv.Write(ctx, starling.MessageText, []byte("own")) }()
		time.Sleep(2 * time.Millisecond)
		publish(t, h, "x", starling.MessageText, "0")
		time.Sleep(2 * time.Millisecond) // the hub takes "0" and waits
		// Twice: the second subscriber writes nothing before it leaves,
		// and the third must still wait for the first.
		for range 2 {
			h.Leave(srv)
			if err := h.Subscribe(srv, "x"); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 5; i++ {
			publish(t, h, "x", starling.MessageText, strconv.Itoa(i))
		}
		closed := make(chan error, 1)
		go func() {
			if err := <-own; err != nil {
				closed <- err
				return
			}
			// Once "5" is written the server closes, after whatever
			// the hub still writes.
			for srv.Stats().MessagesWritten < 6 {
				time.Sleep(time.Millisecond)
			}
			closed <- srv.Close(starling.StatusNormalClosure, "")
		}()
		var got []string
		for {
			_, p, err := client.Read(ctx)
			if err != nil {
				break
			}
			got = append(got, string(p))
		}
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		h.Leave(srv)
		client.CloseNow()
		prev := -1
		for _, m := range got {
			if m == "own" {
				continue
			}
			n, _ := strconv.Atoi(m)
			if n <= prev {
				t.Fatalf("the connection got %q: a message from before Leave after one published later", got)
			}
			prev = n
		}
	}
}

// TestLeaveThenSubscribeWaitsForThePreparedMessage makes a connection leave
// while the hub prepares a large message for it (compressing it, before it
// waits for the connection), and subscribe again at once: the large
// message may arrive, but before the small ones published after, which are
// quick to prepare.
func TestLeaveThenSubscribeWaitsForThePreparedMessage(t *testing.T) {
	ctx := context.Background()
	h := hub.New(nil)
	deflate := starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover, Threshold: -1}
	opts := &starlingtest.Options{
		Dial:   &starling.DialOptions{Compression: deflate},
		Accept: &starling.AcceptOptions{Compression: deflate},
	}
	big := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{}).Read(big) // incompressible: slow to deflate
	for range 10 {
		client, srv, err := starlingtest.Pipe(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		client.SetReadLimit(2 * int64(len(big)))
		got := make(chan []string, 1)
		go func() {
			var ms []string
			for {
				_, p, err := client.Read(ctx)
				if err != nil {
					got <- ms
					return
				}
				ms = append(ms, string(p[:1]))
			}
		}()
		if err := h.Subscribe(srv, "x"); err != nil {
			t.Fatal(err)
		}
		data := append([]byte("0"), big...)
		if err := h.Publish(ctx, "x", starling.MessageBinary, data); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the hub takes "0" and compresses it
		// Twice: the second subscriber writes nothing before it leaves,
		// and the third must still wait for the first.
		for range 2 {
			h.Leave(srv)
			if err := h.Subscribe(srv, "x"); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 3; i++ {
			publish(t, h, "x", starling.MessageText, strconv.Itoa(i))
		}
		// "0" is written first or not at all; should it come last, the
		// connection waits for it a while.
		for srv.Stats().MessagesWritten < 3 {
			time.Sleep(time.Millisecond)
		}
		for deadline := time.Now().Add(time.Second); srv.Stats().MessagesWritten < 4 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		h.Leave(srv)
		if err := srv.Close(starling.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		ms := <-got
		if i := slices.Index(ms, "0"); i > 0 {
			t.Fatalf("the connection got %q: the message from before Leave after one published later", ms)
		}
		client.CloseNow()
	}
}
