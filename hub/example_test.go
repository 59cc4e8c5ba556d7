package hub_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// Chat rooms: each connection joins the room its URL names, and what a
// member sends reaches every member of that room, the sender included, in
// one order for all.
func Example() {
	h := hub.New(nil)
	joined := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		defer h.Leave(c)
		room := r.URL.Query().Get("room")
		if err := h.Subscribe(c, room); err != nil {
			return
		}
		joined <- struct{}{}
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := h.Publish(r.Context(), room, typ, msg); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?room=gophers"
	var members []*starling.Conn
	for range 2 {
		c, _, err := starling.Dial(ctx, url, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close(starling.StatusNormalClosure, "")
		<-joined
		members = append(members, c)
	}

	if err := members[0].Write(ctx, starling.MessageText, []byte("hello, room")); err != nil {
		log.Fatal(err)
	}
	for i, c := range members {
		_, msg, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("member %d got %q\n", i, msg)
	}
	// Output:
	// member 0 got "hello, room"
	// member 1 got "hello, room"
}
