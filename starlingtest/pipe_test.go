package starlingtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// pipe returns the ends of a Pipe, closed when the test ends.
func pipe(t *testing.T, opts *Options) (client, server *starling.Conn) {
	t.Helper()
	client, server, err := Pipe(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.CloseNow()
		server.CloseNow()
	})
	return client, server
}

func TestPipeCarriesMessagesBothWays(t *testing.T) {
	client, server := pipe(t, nil)
	ctx := context.Background()
	go func() {
		// The server end echoes until the close handshake.
		for {
			typ, p, err := server.Read(ctx)
			if err != nil {
				return
			}
			if err := server.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}()
	for _, m := range []struct {
		typ starling.MessageType
		p   string
	}{{starling.MessageText, "hello"}, {starling.MessageBinary, "\x00\xff"}} {
		if err := client.Write(ctx, m.typ, []byte(m.p)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := client.Read(ctx)
		if err != nil || typ != m.typ || string(p) != m.p {
			t.Fatalf("got %v %q %v, want %v %q", typ, p, err, m.typ, m.p)
		}
	}
	if err := client.Close(4000, "done"); err != nil {
		t.Fatal(err)
	}
	_, _, err := server.Read(ctx)
	var ce *starling.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "done" {
		t.Fatalf("server end: got %v, want the client's close 4000 \"done\"", err)
	}
}

func TestPipeNegotiates(t *testing.T) {
	client, server := pipe(t, &Options{
		Dial: &starling.DialOptions{
			Subprotocols: []string{"chat.v2", "chat.v1"},
			Compression:  starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		},
		Accept: &starling.AcceptOptions{
			Subprotocols: []string{"chat.v1"},
			Compression:  starling.CompressionOptions{Mode: starling.CompressionContextTakeover},
		},
	})
	if client.Subprotocol() != "chat.v1" || server.Subprotocol() != "chat.v1" {
		t.Fatalf("subprotocols %q and %q, want chat.v1 on both ends", client.Subprotocol(), server.Subprotocol())
	}
	// A message crosses with permessage-deflate negotiated (which the
	// Conn does not report; the root package's tests check the frames).
	ctx := context.Background()
	msg := []byte(`{"compress":"me","compress":"me","compress":"me","compress":"me"}`)
	go client.Write(ctx, starling.MessageText, msg)
	_, p, err := server.Read(ctx)
	if err != nil || string(p) != string(msg) {
		t.Fatalf("got %q %v", p, err)
	}
}

func TestPipeReportsARefusedHandshake(t *testing.T) {
	_, _, err := Pipe(context.Background(), &Options{
		Dial:   &starling.DialOptions{Origin: "https://elsewhere.example"},
		Accept: &starling.AcceptOptions{},
	})
	var he *starling.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 {
		t.Fatalf("got %v, want the 403 of a cross-origin handshake", err)
	}
	if !errors.Is(err, starling.ErrBadHandshake) {
		t.Fatalf("got %v, want Accept's error too (ErrBadHandshake)", err)
	}
}

// TestPipeServerFailsPromptly checks that a server end failing the
// connection (here over its read limit) ends both ends at once, as over
// TCP, with nobody waiting out a timeout: a pipe cannot close one side
// first, so the server closes it as soon as its close frame is read.
func TestPipeServerFailsPromptly(t *testing.T) {
	client, server := pipe(t, &Options{Accept: &starling.AcceptOptions{ReadLimit: 10}})
	ctx := context.Background()
	start := time.Now()
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := server.Read(ctx)
		serverErr <- err
	}()
	if err := client.Write(ctx, starling.MessageText, []byte(strings.Repeat("x", 100))); err != nil {
		t.Fatal(err)
	}
	_, _, err := client.Read(ctx)
	if code := starling.CloseStatus(err); code != starling.StatusMessageTooBig {
		t.Errorf("client end: got %v, want 1009", err)
	}
	if err := <-serverErr; starling.CloseStatus(err) != starling.StatusMessageTooBig {
		t.Errorf("server end: got %v, want 1009", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("the ends took %v to close", d)
	}
	// The client's echo of the close frame found the pipe closed: it
	// still reports the server's status, not a broken connection.
	if err := client.Write(ctx, starling.MessageText, []byte("late")); starling.CloseStatus(err) != starling.StatusMessageTooBig {
		t.Errorf("client write after the close: got %v, want the server's 1009", err)
	}
}
