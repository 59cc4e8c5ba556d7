package starling_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/starling-ws/starling"
)

// A server on the open internet: NewServer bounds the handshake, TLS comes
// from net/http, and a Group sends Going Away (1001) to every connection
// on shutdown.
func ExampleNewServer() {
	var group starling.Group
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{
			Group:       &group,
			Compression: starling.CompressionOptions{Mode: starling.CompressionNoContextTakeover},
		})
		if err != nil {
			return
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

	srv := starling.NewServer(":8443", mux)
	group.ShutdownWith(srv, 5*time.Second)
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServeTLS("cert.pem", "key.pem"); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
