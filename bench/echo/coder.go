package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

func init() {
	register("coder", serveCoder)
}

// serveCoder echoes with Read and Write, compression disabled.
func serveCoder(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(ReadLimit)
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
