package starling_test

import (
	"context"
	"fmt"
	"log"
	"net"
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
	shutdown := make(chan struct{})
	go func() {
		defer close(shutdown)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		// srv.Shutdown neither tracks nor waits for hijacked connections.
		group.Shutdown(ctx)
	}()
	if err := srv.ListenAndServeTLS("cert.pem", "key.pem"); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	// ListenAndServeTLS returns as soon as Shutdown starts: returning from
	// main now would end the program before the close handshakes.
	<-shutdown
}

// A server for many mostly idle connections accepts TCP connections itself
// and reads each handshake with ReadHandshake: no net/http state stays
// behind a connection, and each is served from a fresh goroutine, whose
// stack stays at Go's 2 KiB minimum until its first message, and at 4 KiB
// after (TestIdleConnectionCost).
func ExampleReadHandshake() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				hs, err := starling.ReadHandshake(context.Background(), nc)
				if err != nil {
					return // answered with 400, 408, 431 or 505, and closed
				}
				if hs.Request.URL.Path != "/echo" {
					hs.Refuse(http.StatusNotFound, "no WebSocket here")
					return
				}
				c, err := hs.Accept(nil)
				if err != nil {
					return
				}
				go serveEcho(c)
			}()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, "ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(ctx, starling.MessageText, []byte("hello"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))

	_, _, err = starling.Dial(ctx, "ws://"+ln.Addr().String()+"/other", nil)
	fmt.Println(err)
	// Output:
	// hello
	// starling: handshake refused: 404 Not Found: no WebSocket here
}

// serveEcho sends every message back until the connection ends.
func serveEcho(c *starling.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.ReadAppend(ctx, buf[:0])
		if err != nil {
			return
		}
		buf = msg
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}
