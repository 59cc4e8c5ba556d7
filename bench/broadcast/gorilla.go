package broadcast

import (
	"context"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

func init() {
	register("gorilla", implementation{serve: serveGorilla, prepare: prepareGorilla})
}

// serveGorilla accepts with EnableCompression when asked (gorilla always
// compresses without context takeover) and reads each connection on the
// handler's goroutine, which gorilla needs to answer control frames.
func serveGorilla(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, EnableCompression: compress}
	return serveHTTP(ctx, ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		add(c)
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	})
}

// gorillaMessage is gorilla's broadcast idiom: a PreparedMessage frames
// and compresses the message once per kind of connection, and
// WritePreparedMessage writes those bytes.
type gorillaMessage struct{ pm *websocket.PreparedMessage }

func prepareGorilla(data []byte) (message, error) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	return gorillaMessage{pm}, err
}

func (m gorillaMessage) writeTo(_ context.Context, c any) error {
	gc, ok := c.(*websocket.Conn)
	if !ok {
		return errUnexpected
	}
	return gc.WritePreparedMessage(m.pm)
}

func (gorillaMessage) release() {}
