package starling_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestWritersAndCloseEndWhenPeerStopsReading has many writers of every
// kind, and then Close, face a client that never reads, with a write
// timeout of 200 ms: once the socket buffers are full, each of them must
// return, with an error, within the write timeout and Close's own bounds,
// however many wait for the locks behind the stuck one.
func TestWritersAndCloseEndWhenPeerStopsReading(t *testing.T) {
	checkGoroutines(t)
	c, _ := unreadPair(t)

	big := make([]byte, 1<<20)
	pm, err := starling.NewPreparedMessage(starling.MessageBinary, big)
	if err != nil {
		t.Fatal(err)
	}
	writers := map[string]func() error{
		"Write": func() error { return c.Write(context.Background(), starling.MessageBinary, big) },
		"Writer": func() error {
			w, err := c.Writer(context.Background(), starling.MessageBinary)
			if err != nil {
				return err
			}
			if _, err := w.Write(big); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		},
		"WritePrepared": func() error { return c.WritePrepared(context.Background(), pm) },
		"WritePing":     func() error { return c.WritePing(context.Background(), []byte("p")) },
		"Ping":          func() error { _, err := c.Ping(context.Background()); return err },
	}
	var wg sync.WaitGroup
	for _, write := range writers {
		for range 3 {
			wg.Go(func() {
				for write() == nil {
				}
			})
		}
	}
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- c.Close(starling.StatusNormalClosure, "") }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writers still wait 10 s after the peer stopped reading")
	}
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close returned nil, but the peer never answered")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Close still waits 15 s after the peer stopped reading")
	}
}
