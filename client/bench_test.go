package client_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// BenchmarkWriteString measures a queued write of a 64-byte text message
// to a loopback server that reads, until its done is called; compare with
// BenchmarkConnWrite, the core's own Write, for the cost of the queue.
func BenchmarkWriteString(b *testing.B) {
	url := benchServer(b)
	cl := client.New(url, nil)
	events := cl.Events()
	cl.Connect()
	if ev, ok := (<-events).(client.Connected); !ok {
		b.Fatalf("got %#v, want Connected", ev)
	}
	// Receive until the end, which ForceDisconnect brings.
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for ev := range events {
			switch ev.(type) {
			case client.Cancelled, client.Disconnected:
				return
			}
		}
	}()
	defer func() { <-ended }()
	defer cl.ForceDisconnect()
	msg := string(make([]byte, 64))
	b.SetBytes(64)
	b.ReportAllocs()
	b.ResetTimer()
	last := make(chan error, 1)
	for i := range b.N {
		var done func(error)
		if i == b.N-1 {
			done = func(err error) { last <- err }
		}
		for {
			err := cl.WriteString(msg, done)
			if err == nil {
				break
			}
			if !errors.Is(err, client.ErrQueueFull) {
				b.Fatal(err)
			}
		}
	}
	if err := <-last; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkConnWrite(b *testing.B) {
	url := benchServer(b)
	c, _, err := starling.Dial(bg, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := make([]byte, 64)
	b.SetBytes(64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Write(bg, starling.MessageText, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// benchServer reads and discards every message.
func benchServer(b *testing.B) string {
	return newServer(b, nil, func(c *starling.Conn, r *http.Request) {
		for {
			if _, _, err := c.Read(bg); err != nil {
				return
			}
		}
	})
}
