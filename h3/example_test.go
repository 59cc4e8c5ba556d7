package h3_test

import (
	"context"
	"log"
	"net/http"

	"github.com/quic-go/quic-go/http3"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/h3"
)

// A server takes WebSockets over HTTP/3 with quic-go's server and
// starling.Accept; nothing else is needed. The handler serves the
// connection to its end, since the stream ends when it returns.
func Example_server() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered with the right status and reason
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	srv := &http3.Server{Addr: ":443", Handler: mux}
	log.Fatal(srv.ListenAndServeTLS("cert.pem", "key.pem"))
}

// A client dials over HTTP/3 through a quic-go transport. WebSockets
// dialed through one transport to one server share a QUIC connection.
func ExampleRoundTripper() {
	tr := &http3.Transport{}
	defer tr.Close()
	ctx := context.Background()
	c, _, err := starling.Dial(ctx, "wss://example.com/echo", &starling.DialOptions{
		HTTP2Transport: h3.RoundTripper(tr),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, starling.MessageText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s", msg)
	c.Close(starling.StatusNormalClosure, "")
}
