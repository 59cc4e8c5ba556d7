package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
	"github.com/starling-ws/starling/hub/natsbroker"
)

// Two servers share their subscribers through NATS: a message published on
// the first reaches a client of the second.
func Example() {
	ns, err := startNATS(-1) // yours runs elsewhere: nats.DefaultURL, say
	if err != nil {
		log.Fatal(err)
	}
	defer stopNATS(ns)
	natsURL := ns.ClientURL()

	// Each server has a hub whose broker is its own NATS connection.
	newServer := func() (*hub.Hub, *httptest.Server, *nats.Conn) {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			log.Fatal(err)
		}
		h := hub.New(&hub.Options{Broker: natsbroker.New(nc, nil)})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := starling.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			defer h.Leave(c)
			if err := h.Subscribe(c, "news"); err != nil {
				return
			}
			c.Write(r.Context(), starling.MessageText, []byte("subscribed"))
			for {
				if _, _, err := c.Read(r.Context()); err != nil {
					return
				}
			}
		}))
		return h, srv, nc
	}
	h1, srv1, nc1 := newServer()
	defer nc1.Close()
	defer srv1.Close()
	_, srv2, nc2 := newServer()
	defer nc2.Close()
	defer srv2.Close()

	ctx := context.Background()
	c, _, err := starling.Dial(ctx, "ws"+strings.TrimPrefix(srv2.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(starling.StatusNormalClosure, "")
	if _, _, err := c.Read(ctx); err != nil { // "subscribed"
		log.Fatal(err)
	}

	if err := h1.Publish(ctx, "news", starling.MessageText, []byte("hello from server 1")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("a client of server 2 got %q\n", msg)
	// Output: a client of server 2 got "hello from server 1"
}

// startNATS runs a NATS server on a loopback port (-1: a free one).
func startNATS(port int) (*server.Server, error) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		stopNATS(s)
		return nil, errors.New("the NATS server did not start")
	}
	return s, nil
}

func stopNATS(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}
