package starling_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestStats checks the counters on both ends of a real connection: whole
// messages however they were written and read, and the bytes of every
// frame, control frames included, which the two ends must agree on.
func TestStats(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testStats(t, starling.CompressionDisabled) })
	t.Run("deflate", func(t *testing.T) { testStats(t, starling.CompressionContextTakeover) })
}

func testStats(t *testing.T, mode starling.CompressionMode) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accepted := make(chan *starling.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Compression: starling.CompressionOptions{Mode: mode}})
		if err != nil {
			t.Error(err)
			close(accepted)
			return
		}
		accepted <- c
	}))
	defer srv.Close()
	client, _, err := starling.Dial(ctx, srv.URL, &starling.DialOptions{Compression: starling.CompressionOptions{Mode: mode}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	server := <-accepted
	if server == nil {
		t.FailNow()
	}
	defer server.CloseNow()
	if got := server.Stats(); got != (starling.Stats{}) {
		t.Fatalf("server Stats before any frame = %+v, want zeros", got)
	}

	// Four messages, each written and read a different way.
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 200<<10) // larger than any read buffer
	check(client.Write(ctx, starling.MessageText, []byte("hello")))
	check(client.Write(ctx, starling.MessageBinary, big))
	w, err := client.Writer(ctx, starling.MessageText)
	check(err)
	for range 3 {
		_, err := w.Write([]byte("streamed in parts "))
		check(err)
	}
	check(w.Close())
	pm, err := starling.NewPreparedMessage(starling.MessageText, []byte("prepared"))
	check(err)
	check(client.WritePrepared(ctx, pm))

	_, _, err = server.ReadSlice(ctx)
	check(err)
	_, _, err = server.Read(ctx)
	check(err)
	_, r, err := server.Reader(ctx)
	check(err)
	_, err = io.ReadAll(r)
	check(err)
	_, _, err = server.ReadAppend(ctx, nil)
	check(err)

	// A ping and its pong cross too, answered and received by readers.
	go server.Read(ctx)
	go client.Read(ctx)
	_, err = client.Ping(ctx)
	check(err)

	// A writer counts its bytes once the write call returns, which may
	// be after the peer has read them: wait for the pong's to settle.
	cs, ss := client.Stats(), server.Stats()
	for ss.BytesWritten != cs.BytesRead && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
		cs, ss = client.Stats(), server.Stats()
	}
	if cs.MessagesWritten != 4 || ss.MessagesRead != 4 {
		t.Errorf("messages: client wrote %d, server read %d; want 4 and 4", cs.MessagesWritten, ss.MessagesRead)
	}
	if cs.MessagesRead != 0 || ss.MessagesWritten != 0 {
		t.Errorf("messages the other way: client read %d, server wrote %d; want 0", cs.MessagesRead, ss.MessagesWritten)
	}
	if cs.BytesWritten != ss.BytesRead || ss.BytesWritten != cs.BytesRead {
		t.Errorf("the ends disagree: client %+v, server %+v", cs, ss)
	}
	// The server wrote one pong, with the ping's payload.
	if ss.BytesWritten < 2 || ss.BytesWritten > 2+125 {
		t.Errorf("server wrote %d bytes, want one pong", ss.BytesWritten)
	}
	compressed := mode != starling.CompressionDisabled
	if compressed && cs.BytesWritten >= int64(len(big)) {
		t.Errorf("client wrote %d bytes with compression, want fewer than the %d of zeros", cs.BytesWritten, len(big))
	}
	if !compressed && cs.BytesWritten < int64(len(big)) {
		t.Errorf("client wrote %d bytes, fewer than one message's payload", cs.BytesWritten)
	}
}
