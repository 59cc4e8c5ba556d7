package starling_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/starlingtest"
)

// TestWriteGivenUpKeepsCompressionInStep gives up on compressed messages
// while they wait for the frame lock, which a ping to a peer that is not
// reading holds: the connection stays open, and the messages written next
// must still inflate on the peer. With context takeover, a compressor
// that kept a message the peer never got in its window would make every
// later message refer to bytes the peer does not have.
func TestWriteGivenUpKeepsCompressionInStep(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer=%v", stream), func(t *testing.T) {
			checkGoroutines(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client, server, err := starlingtest.Pipe(ctx, &starlingtest.Options{
				Accept: &starling.AcceptOptions{Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover}},
				Dial:   &starling.DialOptions{Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover}},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer client.CloseNow()
			defer server.CloseNow()
			go func() { // takes the client's pongs
				for {
					if _, _, err := server.Read(context.Background()); err != nil {
						return
					}
				}
			}()
			// net.Pipe buffers nothing: the ping holds the frame lock
			// until the client reads.
			pinged := make(chan error, 1)
			go func() { pinged <- server.WritePing(context.Background(), nil) }()
			time.Sleep(50 * time.Millisecond)

			msg := []byte(strings.Repeat("starling compresses this message ", 30))
			short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancelShort()
			if stream {
				err = writeStreamed(short, server, msg)
			} else {
				err = server.Write(short, starling.MessageText, msg)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("write under an ended context: %v, want context.DeadlineExceeded", err)
			}

			read := make(chan error, 1)
			go func() {
				for range 2 {
					_, got, err := client.Read(context.Background())
					if err == nil && !bytes.Equal(got, msg) {
						err = fmt.Errorf("read %.40q..., want %.40q...", got, msg)
					}
					if err != nil {
						read <- err
						return
					}
				}
				read <- nil
			}()
			if err := <-pinged; err != nil {
				t.Fatalf("WritePing: %v", err)
			}
			for range 2 {
				if err := server.Write(ctx, starling.MessageText, msg); err != nil {
					t.Fatalf("Write after a write given up: %v", err)
				}
			}
			if err := <-read; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// writeStreamed writes msg through a Writer.
func writeStreamed(ctx context.Context, c *starling.Conn, msg []byte) error {
	w, err := c.Writer(ctx, starling.MessageText)
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
