package starling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// TestDialWithoutUserinfoSendsNoAuthorization checks that Basic
// credentials are sent only for a URL with user info: a URL without it
// must not send empty ones.
func TestDialWithoutUserinfoSendsNoAuthorization(t *testing.T) {
	got := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("Authorization")
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	if _, _, err := starling.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil); err == nil {
		t.Fatal("Dial succeeded against a refusing server")
	}
	if auth := <-got; len(auth) != 0 {
		t.Fatalf("Authorization = %q, want none", auth)
	}
}

// TestDialUserinfoKeepsCallerHeader checks that the credentials of a URL
// are added to the request's header fields, not in place of the caller's,
// and not into the caller's DialOptions.HTTPHeader, which may serve for
// other dials.
func TestDialUserinfoKeepsCallerHeader(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	opts := &starling.DialOptions{HTTPHeader: http.Header{"X-Trace": {"1"}}}
	if _, _, err := starling.Dial(context.Background(), "ws://u:p@"+strings.TrimPrefix(srv.URL, "http://"), opts); err == nil {
		t.Fatal("Dial succeeded against a refusing server")
	}
	h := <-got
	if h.Get("X-Trace") != "1" || h.Get("Authorization") != "Basic dTpw" {
		t.Fatalf("server got %v", h)
	}
	if len(opts.HTTPHeader) != 1 {
		t.Fatalf("DialOptions.HTTPHeader changed to %v", opts.HTTPHeader)
	}
}
