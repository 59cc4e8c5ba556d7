// Echo is a WebSocket server that sends every message back to its sender.
//
//	go run ./examples/echo -addr 127.0.0.1:8080
//
// It prints the URL it serves on its first line of output, so that -addr
// with port 0 can be used by scripts and tests. An interrupt (Ctrl-C)
// closes its connections with 1001 (going away) before it exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/starling-ws/starling"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo: serving on ws://%s/\n", ln.Addr())

	srv := &http.Server{Handler: http.HandlerFunc(echo), ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		// Shutdown leaves the WebSockets alone, as hijacked connections:
		// they are told the server is going away (1001).
		conns.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-stopped // Serve returns as soon as Shutdown starts
}

// conns holds the open WebSockets, to be closed on shutdown.
var conns starling.Group

// echo upgrades the request and echoes messages until the client closes.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := starling.Accept(w, r, &starling.AcceptOptions{Group: &conns})
	if err != nil {
		log.Print(err) // Accept has answered with the HTTP status
		return
	}
	defer c.CloseNow()
	ctx := context.Background() // the request's context ends with the handler
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			if code := starling.CloseStatus(err); code != starling.StatusNormalClosure && code != starling.StatusGoingAway {
				log.Printf("%s: %v", r.RemoteAddr, err)
			}
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			log.Printf("%s: %v", r.RemoteAddr, err)
			return
		}
	}
}
