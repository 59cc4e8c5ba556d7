package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// eventTimeout bounds every wait for an event; the tests never measure
// speed, they only must not hang.
const eventTimeout = 10 * time.Second

// newServer starts a WebSocket server on loopback that runs serve for each
// connection, and returns its ws:// URL.
func newServer(t testing.TB, opts *starling.AcceptOptions, serve func(c *starling.Conn, r *http.Request)) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		serve(c, r)
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http")
}

// recorder collects a client's events in order.
type recorder struct {
	ch  chan client.Event
	log *testing.T
}

// record makes c's events go to a new recorder, and drops c's connection
// when the test ends.
func record(t *testing.T, c *client.Client) *recorder {
	t.Cleanup(c.ForceDisconnect)
	r := &recorder{ch: make(chan client.Event, 100000)}
	c.OnEvent(func(ev client.Event) { r.ch <- ev })
	return r
}

func (r *recorder) next(t *testing.T) client.Event {
	t.Helper()
	select {
	case ev := <-r.ch:
		if r.log != nil {
			r.log.Logf("event %#v", ev)
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatal("no event within", eventTimeout)
		return nil
	}
}

// expect checks that the next events are want, in order. A Connected or
// Error in want matches any of its type, except that an Error with a
// non-nil Err must match it with errors.Is, and a Connected with a
// Subprotocol must have it.
func (r *recorder) expect(t *testing.T, want ...client.Event) {
	t.Helper()
	for i, w := range want {
		got := r.next(t)
		if err := match(got, w); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// quiet checks that no event arrives for a while.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.ch:
		t.Fatalf("unexpected event %#v", ev)
	case <-time.After(d):
	}
}

func match(got, want client.Event) error {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return fmt.Errorf("got %#v, want %#v", got, want)
	}
	switch w := want.(type) {
	case client.Connected:
		if w.Subprotocol != "" && got.(client.Connected).Subprotocol != w.Subprotocol {
			return fmt.Errorf("got %#v, want subprotocol %q", got, w.Subprotocol)
		}
		return nil
	case client.Error:
		if w.Err != nil && !errors.Is(got.(client.Error).Err, w.Err) {
			return fmt.Errorf("got %v, want %v", got, w.Err)
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %#v, want %#v", got, want)
	}
	return nil
}

// echo sends every message back until the connection ends.
func echo(c *starling.Conn, _ *http.Request) {
	for {
		typ, b, err := c.Read(bg)
		if err != nil {
			return
		}
		if err := c.Write(bg, typ, b); err != nil {
			return
		}
	}
}
