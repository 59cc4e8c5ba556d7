package wsjson_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/wsjson"
)

// A server that answers each JSON request with a JSON reply.
func Example() {
	type request struct {
		Symbol string `json:"symbol"`
	}
	type reply struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			var req request
			if err := wsjson.Read(r.Context(), c, &req); err != nil {
				return // the connection ended, or Read closed it with 1003
			}
			if err := wsjson.Write(r.Context(), c, reply{req.Symbol, 12.5}); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(starling.StatusNormalClosure, "")
	if err := wsjson.Write(ctx, c, request{"STRL"}); err != nil {
		log.Fatal(err)
	}
	var rep reply
	if err := wsjson.Read(ctx, c, &rep); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %.2f\n", rep.Symbol, rep.Price)
	// Output: STRL: 12.50
}
