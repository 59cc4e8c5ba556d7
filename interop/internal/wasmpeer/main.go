//go:build js && wasm

// Command wasmpeer is Starling's client compiled to WebAssembly, run in a
// browser page by TestWasmClientInBrowser: it dials the test's server
// through the browser's WebSocket and reports each check to the page's
// starlingDone function, one line each, "ok NAME" or "FAIL NAME: why".
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"
	"time"

	"github.com/starling-ws/starling"
)

func main() {
	base := js.Global().Get("starlingBase").String() // ws://host:port
	var report []string
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := c.run(ctx, base)
		cancel()
		if err != nil {
			report = append(report, fmt.Sprintf("FAIL %s: %v", c.name, err))
		} else {
			report = append(report, "ok "+c.name)
		}
	}
	js.Global().Call("starlingDone", strings.Join(report, "\n"))
}

var checks = []struct {
	name string
	run  func(ctx context.Context, base string) error
}{
	{"echo", echo},
	{"stream", stream},
	{"ping", ping},
	{"server close", serverClose},
	{"read limit", readLimit},
	{"refused", refused},
	{"context", cancelled},
	{"pins refused", pins},
}

// echo exchanges messages of each type and a large one, and closes with
// 4000, which the server checks.
func echo(ctx context.Context, base string) error {
	c, resp, err := starling.Dial(ctx, base+"/echo", &starling.DialOptions{Subprotocols: []string{"other", "echo.v1"}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if c.Subprotocol() != "echo.v1" || resp.StatusCode != 101 {
		return fmt.Errorf("subprotocol %q, status %d", c.Subprotocol(), resp.StatusCode)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, m := range []struct {
		typ starling.MessageType
		p   []byte
	}{
		{starling.MessageText, []byte("hello, ünïcode")},
		{starling.MessageBinary, []byte{0, 0xff, 1}},
		{starling.MessageBinary, big},
		{starling.MessageText, nil},
	} {
		if err := c.Write(ctx, m.typ, m.p); err != nil {
			return err
		}
		typ, p, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if typ != m.typ || !bytes.Equal(p, m.p) {
			return fmt.Errorf("sent %v of %d bytes, got %v of %d", m.typ, len(m.p), typ, len(p))
		}
	}
	return c.Close(4000, "done")
}

// stream writes a message in fragments with Writer and reads the echo with
// Reader.
func stream(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	w, err := c.Writer(ctx, starling.MessageText)
	if err != nil {
		return err
	}
	for _, part := range []string{"one ", "two ", strings.Repeat("three ", 20000)} {
		if _, err := io.WriteString(w, part); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if want := "one two " + strings.Repeat("three ", 20000); typ != starling.MessageText || string(got) != want {
		return fmt.Errorf("got %v of %d bytes, want text of %d", typ, len(got), len(want))
	}
	return c.Close(starling.StatusNormalClosure, "")
}

// ping checks that Ping returns: the browser answers the server's pings
// and cannot send its own, so the transport answers.
func ping(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	go c.Read(ctx) // pongs are matched while some goroutine reads
	if _, err := c.Ping(ctx); err != nil {
		return err
	}
	return c.Close(starling.StatusNormalClosure, "")
}

// serverClose reads the server's message and then its close status.
func serverClose(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/close", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if _, p, err := c.Read(ctx); err != nil || string(p) != "bye soon" {
		return fmt.Errorf("got %q, %v", p, err)
	}
	_, _, err = c.Read(ctx)
	var ce *starling.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "server says bye" {
		return fmt.Errorf("got %v, want the server's close 4001", err)
	}
	return nil
}

// readLimit fails a message over the read limit with 1009.
func readLimit(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/big", &starling.DialOptions{ReadLimit: 1024})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	if code := starling.CloseStatus(err); code != starling.StatusMessageTooBig {
		return fmt.Errorf("got %v (%v), want 1009", code, err)
	}
	return nil
}

// refused fails a dial that the server refuses.
func refused(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/refuse", nil)
	if err == nil {
		c.CloseNow()
		return errors.New("a refused handshake gave a connection")
	}
	return nil
}

// cancelled ends a read waiting for a message with its context, which
// leaves the connection open: the echo of a later write still arrives.
func cancelled(ctx context.Context, base string) error {
	c, _, err := starling.Dial(ctx, base+"/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(short); !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("got %v, want the context's deadline", err)
	}
	if err := c.Write(ctx, starling.MessageText, []byte("after")); err != nil {
		return fmt.Errorf("write after the read's context ended: %w", err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "after" {
		return fmt.Errorf("read after the read's context ended: %q, %v", msg, err)
	}
	return nil
}

// pins refuses certificate pins, which a browser cannot check.
func pins(ctx context.Context, base string) error {
	_, _, err := starling.Dial(ctx, base+"/echo", &starling.DialOptions{Pins: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "pins") {
		return fmt.Errorf("got %v, want pins refused", err)
	}
	return nil
}
