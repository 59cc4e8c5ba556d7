package starling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

func TestSmokeEcho(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if err := c.Write(context.Background(), typ, p); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := starling.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		msg := strings.Repeat("x", n)
		if err := c.Write(ctx, starling.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil || typ != starling.MessageText || string(p) != msg {
			t.Fatalf("n=%d: typ=%v len=%d err=%v", n, typ, len(p), err)
		}
	}
	if d, err := func() (any, error) {
		go c.Read(ctx)
		return c.Ping(ctx)
	}(); err != nil {
		t.Fatal(d, err)
	}
	t0 := time.Now()
	defer func() { t.Log("close took", time.Since(t0)) }()
	if err := c.Close(4001, "bye"); err != nil {
		t.Fatal(err)
	}
}
