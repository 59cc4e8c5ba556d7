package starlingtest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/starlingtest"
)

// greet is the code under test: it answers a name with a greeting.
func greet(ctx context.Context, c *starling.Conn) error {
	_, name, err := c.Read(ctx)
	if err != nil {
		return err
	}
	return c.Write(ctx, starling.MessageText, fmt.Appendf(nil, "hello, %s", name))
}

// A test of a handler's logic, with no server and no network.
func ExamplePipe() {
	ctx := context.Background()
	client, server, err := starlingtest.Pipe(ctx, nil)
	if err != nil {
		log.Fatal(err) // in a test: t.Fatal(err)
	}
	defer client.CloseNow()
	defer server.CloseNow()
	go greet(ctx, server)

	client.Write(ctx, starling.MessageText, []byte("gopher"))
	_, msg, _ := client.Read(ctx)
	fmt.Println(string(msg))
	// Output: hello, gopher
}
