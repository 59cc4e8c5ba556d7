package starling_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// TestDialRefusesLineBreakInHeaderValue checks what ErrInvalidRequest's
// doc promises for a DialOptions that describes a request no server could
// accept: a field value with CR or LF, which RFC 9110 section 5.5 does not
// allow, is refused before anything is sent, as net/http's client and an
// HTTP/2 transport refuse it, and is not sent altered (http.Header.Write
// turns the line break into a space).
func TestDialRefusesLineBreakInHeaderValue(t *testing.T) {
	got := make(chan http.Header, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header
		if c, err := starling.Accept(w, r, &starling.AcceptOptions{InsecureSkipOriginCheck: true}); err == nil {
			c.CloseNow()
		}
	}))
	defer srv.Close()
	for name, opts := range map[string]*starling.DialOptions{
		"HTTPHeader CRLF": {HTTPHeader: http.Header{"X-Token": {"a\r\nX-Injected: 1"}}},
		"HTTPHeader LF":   {HTTPHeader: http.Header{"X-Token": {"a\nb"}}},
		"Origin CRLF":     {Origin: "https://a.example\r\nX-Injected: 1"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := starling.Dial(ctx, srv.URL, opts)
		cancel()
		if c != nil {
			c.CloseNow()
		}
		if !errors.Is(err, starling.ErrInvalidRequest) {
			t.Errorf("%s: Dial = %v, want an error with ErrInvalidRequest", name, err)
		}
		select {
		case h := <-got:
			t.Errorf("%s: the request reached the server, altered: X-Token %q, Origin %q", name, h.Get("X-Token"), h.Get("Origin"))
		default:
		}
	}
}
