package wsjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/wsjson"
)

// badText marshals as JSON whose string holds bytes that are not UTF-8,
// which encoding/json passes through from a Marshaler.
type badText struct{}

func (badText) MarshalJSON() ([]byte, error) { return []byte("\"\xff\xfe\""), nil }

// TestWriteOddValues writes values at the edges of encoding/json: each
// arrives as one text message of valid UTF-8, or Write fails with an
// error and sends nothing.
func TestWriteOddValues(t *testing.T) {
	ctx, client, server := pair(t)
	for _, v := range []any{
		nil,
		json.Number("12.50"),
		json.Number("not a number"),
		json.RawMessage("\"\xff\""),
		badText{},
		"\xff\xfe invalid UTF-8 in a Go string",
		map[string]any{strings.Repeat("k", 1<<20): []int{}},
	} {
		err := wsjson.Write(ctx, server, v)
		if err != nil {
			t.Logf("Write(%T): %v", v, err)
			continue
		}
		typ, p, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("Write(%T) sent nothing readable: %v", v, err)
		}
		if typ != starling.MessageText || !utf8.Valid(p) || !json.Valid(p) {
			t.Fatalf("Write(%T) sent %v %.40q, want JSON text", v, typ, p)
		}
	}
	// The connection still works.
	if err := wsjson.Write(ctx, server, "after"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := wsjson.Read(ctx, client, &got); err != nil || got != "after" {
		t.Fatalf("Read = %q, %v", got, err)
	}
}

// TestReadIntoNothing reads into values encoding/json cannot decode into:
// a mistake of the caller's, not the peer's, so the message must not be
// lost nor the peer told its data is unsupported.
func TestReadIntoNothing(t *testing.T) {
	ctx, client, server := pair(t)
	if err := client.Write(ctx, starling.MessageText, []byte(`{"symbol":"STRL"}`)); err != nil {
		t.Fatal(err)
	}
	var q quote
	for _, v := range []any{nil, q, (*quote)(nil)} {
		err := wsjson.Read(ctx, server, v)
		var invalid *json.InvalidUnmarshalError
		if !errors.As(err, &invalid) {
			t.Fatalf("Read(%T) = %v, want a *json.InvalidUnmarshalError", v, err)
		}
	}
	if err := wsjson.Read(ctx, server, &q); err != nil || q.Symbol != "STRL" {
		t.Fatalf("Read(&q) after the refused ones = %+v, %v; want the message", q, err)
	}
}
