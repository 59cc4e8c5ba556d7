package server

import (
	"context"
	"net/http"

	"github.com/starling-ws/starling"
)

// serveEcho sends every message back with its type until the connection
// ends.
func serveEcho(c *starling.Conn, _ *http.Request) error {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return err
		}
	}
}
