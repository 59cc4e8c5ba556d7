package wsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/wsjson"
)

// pair connects a client to a Starling server on loopback and returns
// both ends.
func pair(t testing.TB) (ctx context.Context, client, server *starling.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	accepted := make(chan *starling.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			t.Errorf("Accept: %v", err)
			close(accepted)
			return
		}
		accepted <- c
	}))
	t.Cleanup(srv.Close)
	client, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.CloseNow() })
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { server.CloseNow() })
	return ctx, client, server
}

type quote struct {
	Symbol string   `json:"symbol"`
	Price  float64  `json:"price"`
	Tags   []string `json:"tags,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	ctx, client, server := pair(t)
	want := quote{Symbol: "STRL", Price: 12.5, Tags: []string{"a<b", "ü"}}
	if err := wsjson.Write(ctx, client, want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	var got quote
	if err := wsjson.Read(ctx, server, &got); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.Symbol != want.Symbol || got.Price != want.Price || len(got.Tags) != 2 || got.Tags[0] != want.Tags[0] || got.Tags[1] != want.Tags[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestWriteIsOneTextMessage checks the bytes on the wire: exactly what
// json.Marshal gives, as one text message, with no newline after it.
func TestWriteIsOneTextMessage(t *testing.T) {
	ctx, client, server := pair(t)
	v := map[string]any{"n": 1, "html": "<b>&</b>"}
	if err := wsjson.Write(ctx, server, v); err != nil {
		t.Fatalf("Write: %v", err)
	}
	typ, got, err := client.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want, _ := json.Marshal(v)
	if typ != starling.MessageText || string(got) != string(want) {
		t.Fatalf("got %v %q, want text %q", typ, got, want)
	}
}

// TestWriteUnencodable checks that a value json cannot encode is an error
// and sends nothing: the next message the peer sees is the next good one.
func TestWriteUnencodable(t *testing.T) {
	ctx, client, server := pair(t)
	err := wsjson.Write(ctx, server, map[string]any{"c": make(chan int)})
	var unsupported *json.UnsupportedTypeError
	if !errors.As(err, &unsupported) {
		t.Fatalf("Write(chan) = %v, want a *json.UnsupportedTypeError", err)
	}
	if err := wsjson.Write(ctx, server, "next"); err != nil {
		t.Fatalf("Write after the failed one: %v", err)
	}
	var got string
	if err := wsjson.Read(ctx, client, &got); err != nil || got != "next" {
		t.Fatalf("Read = %q, %v; want \"next\"", got, err)
	}
}

// TestReadRefuses checks each kind of message Read cannot decode: the
// reader gets an error it can inspect, and the peer a close with 1003.
func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   starling.MessageType
		data  string
		check func(error) bool
	}{
		{"binary", starling.MessageBinary, `{"symbol":"STRL"}`, func(err error) bool { return errors.Is(err, wsjson.ErrNotText) }},
		{"not JSON", starling.MessageText, `{"symbol":`, func(err error) bool {
			var syntax *json.SyntaxError
			return errors.As(err, &syntax)
		}},
		{"wrong shape", starling.MessageText, `{"price":"high"}`, func(err error) bool {
			var typ *json.UnmarshalTypeError
			return errors.As(err, &typ)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, client, server := pair(t)
			// The client reads in the background, as a peer does, so
			// that it answers the close the server starts.
			peer := make(chan error, 1)
			go func() {
				_, _, err := client.Read(ctx)
				peer <- err
			}()
			if err := client.Write(ctx, tc.typ, []byte(tc.data)); err != nil {
				t.Fatalf("client Write: %v", err)
			}
			var q quote
			err := wsjson.Read(ctx, server, &q)
			if !tc.check(err) {
				t.Fatalf("Read = %v, not the error expected", err)
			}
			if got := starling.CloseStatus(<-peer); got != starling.StatusUnsupportedData {
				t.Fatalf("peer saw close status %v, want %v", got, starling.StatusUnsupportedData)
			}
		})
	}
}

// TestReadKeepsNothingLent checks that what Read decodes stays intact
// after later reads reuse the connection's buffers.
func TestReadKeepsNothingLent(t *testing.T) {
	ctx, client, server := pair(t)
	for _, s := range []string{"first value", "second, longer value"} {
		if err := wsjson.Write(ctx, client, s); err != nil {
			t.Fatal(err)
		}
	}
	var first, second json.RawMessage
	if err := wsjson.Read(ctx, server, &first); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Read(ctx, server, &second); err != nil {
		t.Fatal(err)
	}
	if string(first) != `"first value"` || string(second) != `"second, longer value"` {
		t.Fatalf("got %s and %s", first, second)
	}
}

func TestConnectionErrorsPassThrough(t *testing.T) {
	ctx, client, server := pair(t)
	go client.Close(starling.StatusGoingAway, "bye")
	var v any
	err := wsjson.Read(ctx, server, &v)
	if starling.CloseStatus(err) != starling.StatusGoingAway {
		t.Fatalf("Read = %v, want the peer's close (1001)", err)
	}
}

// BenchmarkWriteRead measures one small value written by one end and read
// by the other, over loopback.
func BenchmarkWriteRead(b *testing.B) {
	ctx, client, server := pair(b)
	v := quote{Symbol: "STRL", Price: 12.5, Tags: []string{"x"}}
	var got quote
	b.ReportAllocs()
	for b.Loop() {
		if err := wsjson.Write(ctx, client, v); err != nil {
			b.Fatal(err)
		}
		if err := wsjson.Read(ctx, server, &got); err != nil {
			b.Fatal(err)
		}
	}
}
