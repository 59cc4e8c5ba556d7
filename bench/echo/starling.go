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

// serveStarling echoes with ReadAppend and Write, the whole-message API,
// reusing one buffer per connection as a careful program would (as the
// gobwas server reuses its buffer).
func serveStarling(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &starling.AcceptOptions{ReadLimit: ReadLimit, InsecureSkipOriginCheck: true}
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		var buf []byte
		for {
			typ, p, err := c.ReadAppend(ctx, buf[:0])
			if err != nil {
				return
			}
			buf = p
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
}
