// Client sends a few messages to a WebSocket echo server, prints the
// answers, and closes with the close handshake.
//
//	go run ./examples/client -url ws://127.0.0.1:8080/ hello world
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/starling-ws/starling"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/", "URL of the echo server")
	timeout := flag.Duration("timeout", 10*time.Second, "time allowed for the whole exchange")
	flag.Parse()
	messages := flag.Args()
	if len(messages) == 0 {
		messages = []string{"hello", "κόσμε", "goodbye"}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c, _, err := starling.Dial(ctx, *url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	for _, m := range messages {
		if err := c.Write(ctx, starling.MessageText, []byte(m)); err != nil {
			log.Fatal(err)
		}
		_, answer, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("sent %q, got %q\n", m, answer)
	}
	if err := c.Close(starling.StatusNormalClosure, "done"); err != nil {
		log.Fatal(err)
	}
}
