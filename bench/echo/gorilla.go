package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

func init() {
	register("gorilla", serveGorilla)
}

// serveGorilla echoes with NextReader into a buffer reused from message to
// message, and WriteMessage, with the default 4 KiB buffers.
func serveGorilla(ctx context.Context, addr string, ready func(net.Addr)) error {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(ReadLimit)
		var buf []byte
		for {
			typ, r, err := c.NextReader()
			if err != nil {
				return
			}
			if buf, err = appendAll(buf[:0], r); err != nil {
				return
			}
			if err := c.WriteMessage(typ, buf); err != nil {
				return
			}
		}
	})
}
