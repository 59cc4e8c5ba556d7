package broadcast

import (
	"context"
	"net"
	"net/http"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func init() {
	register("nbio", implementation{serve: serveNbio, prepare: prepareNbio})
}

// serveNbio runs nbio's own epoll engine (its default non-blocking mode),
// with compression (always without context takeover in nbio) when asked.
func serveNbio(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.KeepaliveTime = 0
	up.EnableCompression(compress)
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if compress {
			c.EnableWriteCompression(true)
		}
		add(c)
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Listen:  func(string, string) (net.Listener, error) { return ln, nil },
		Addrs:   []string{ln.Addr().String()},
		Handler: mux,
		MaxLoad: 1 << 20,
	})
	if err := engine.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return engine.Shutdown(context.Background())
}

// nbioMessage is a WriteMessage per connection: nbio has no prepared or
// broadcast message, so with compression each connection compresses the
// message again. In its non-blocking mode a write that the socket cannot
// take is buffered by the engine and finished later.
type nbioMessage struct{ data []byte }

func prepareNbio(data []byte) (message, error) { return nbioMessage{data}, nil }

func (m nbioMessage) writeTo(_ context.Context, c any) error {
	nc, ok := c.(*websocket.Conn)
	if !ok {
		return errUnexpected
	}
	return nc.WriteMessage(websocket.TextMessage, m.data)
}

func (nbioMessage) release() {}
