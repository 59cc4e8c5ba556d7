package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/starling-ws/starling"
)

func init() {
	register("starling", serveStarling)
}

// serveStarling echoes with Read and Write, the whole-message API.
func serveStarling(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &starling.AcceptOptions{ReadLimit: ReadLimit, InsecureSkipOriginCheck: true}
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
}
