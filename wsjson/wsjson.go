// Package wsjson reads and writes JSON messages on a starling.Conn, one
// value per text message.
//
// It is strict, as a peer speaking JSON expects: a binary message, or a
// text message that does not decode into the value given, ends the
// connection with status 1003 (unsupported data, RFC 6455 section 7.4.1).
// A program that wants to skip such messages instead reads with
// Conn.ReadSlice and decodes with encoding/json itself.
package wsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/starling-ws/starling"
)

// ErrNotText is returned by Read for a binary message: JSON is text.
var ErrNotText = errors.New("wsjson: binary message, want JSON text")

// Read reads the next message from c and decodes it into v, which must
// be a pointer, as for json.Unmarshal. If v is not a non-nil pointer, Read
// returns a *json.InvalidUnmarshalError and reads nothing: the mistake is
// the caller's, and the peer's message must be neither lost nor refused.
//
// If the message is binary (ErrNotText) or does not decode into v (an
// error wrapping encoding/json's, such as *json.SyntaxError), Read closes
// c with status 1003 before it returns the error. Errors of the
// connection itself are returned as Conn.Read returns them.
func Read(ctx context.Context, c *starling.Conn, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("wsjson: %w", &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)})
	}
	// ReadSlice lends the message until the next read; Unmarshal copies
	// whatever v keeps of it.
	typ, p, err := c.ReadSlice(ctx)
	if err != nil {
		return err
	}
	if typ != starling.MessageText {
		c.Close(starling.StatusUnsupportedData, "want a JSON text message")
		return ErrNotText
	}
	if err := json.Unmarshal(p, v); err != nil {
		c.Close(starling.StatusUnsupportedData, "cannot decode the JSON message")
		return fmt.Errorf("wsjson: %w", err)
	}
	return nil
}

// Write encodes v as json.Marshal does and writes it to c as one text
// message. If v cannot be encoded, Write returns the error and sends
// nothing.
func Write(ctx context.Context, c *starling.Conn, v any) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer release(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return fmt.Errorf("wsjson: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n")) // Encode ends every value with one
	return c.Write(ctx, starling.MessageText, b)
}

// buffers holds encoding buffers, so that a steady stream of writes
// allocates none of its own.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled bounds the buffers kept for reuse: one very large message
// should not pin its buffer for the life of the process.
const maxPooled = 64 << 10

func release(buf *bytes.Buffer) {
	if buf.Cap() > maxPooled {
		return
	}
	buf.Reset()
	buffers.Put(buf)
}
