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

// serveCoder echoes with Reader into a buffer reused from message to
// message, and Write, compression disabled.
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
		var buf []byte
		for {
			typ, r, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if buf, err = appendAll(buf[:0], r); err != nil {
				return
			}
			if err := c.Write(ctx, typ, buf); err != nil {
				return
			}
		}
	})
}
