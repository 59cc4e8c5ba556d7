package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// TestRunLostEchoSaysSo checks that an echo that never comes is reported
// as such, not as the "context canceled" of the read given up.
func TestRunLostEchoSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Size: 16, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "read: no echo within 5s"
	if res.Errors != 1 || len(res.ErrorSample) != 1 || res.ErrorSample[0] != want {
		t.Fatalf("%d errors %q; want 1, %q", res.Errors, res.ErrorSample, want)
	}
}
