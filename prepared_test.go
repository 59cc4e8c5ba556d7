package starling_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

func TestPreparedMessageBroadcast(t *testing.T) {
	checkGoroutines(t)
	const clients = 4
	conns := make(chan *starling.Conn, clients)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			Compression: starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		})
		if err != nil {
			t.Error(err)
			return
		}
		conns <- c
	}))
	t.Cleanup(srv.Close)

	// Half the clients negotiate compression with context takeover, half
	// none, so both prepared encodings are used.
	var clientConns []*starling.Conn
	for i := range clients {
		var opts starling.DialOptions
		if i%2 == 0 {
			opts.Compression.Mode = starling.CompressionContextTakeover
		}
		c, _, err := starling.Dial(context.Background(), wsURL(srv), &opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		clientConns = append(clientConns, c)
	}
	var serverConns []*starling.Conn
	for range clients {
		c := <-conns
		t.Cleanup(func() { c.CloseNow() })
		serverConns = append(serverConns, c)
	}

	// Prepared broadcasts interleaved with ordinary compressed messages:
	// the ordinary ones after a prepared one must still inflate, which
	// they would not if the server's window had drifted from the client's.
	ctx := context.Background()
	var want []string
	for round := range 5 {
		news := strings.Repeat(fmt.Sprintf("breaking news %d; ", round), 30)
		pm, err := starling.NewPreparedMessage(starling.MessageText, []byte(news))
		if err != nil {
			t.Fatal(err)
		}
		personal := strings.Repeat(fmt.Sprintf("just for you %d; ", round), 30)
		for _, c := range serverConns {
			if err := c.WritePrepared(ctx, pm); err != nil {
				t.Fatal(err)
			}
			if err := c.Write(ctx, starling.MessageText, []byte(personal)); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, news, personal)
	}
	for i, c := range clientConns {
		for j, w := range want {
			_, got, err := c.Read(ctx)
			if err != nil || string(got) != w {
				t.Fatalf("client %d, message %d: %.40q, %v; want %.40q", i, j, got, err, w)
			}
		}
	}
}

func TestPreparedMessageRejectsInvalidText(t *testing.T) {
	if _, err := starling.NewPreparedMessage(starling.MessageText, []byte{0xff}); err == nil {
		t.Fatal("invalid UTF-8 text was prepared")
	}
}
