package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func init() {
	register("nbio", serveNbio)
}

// serveNbio runs nbio's own epoll engine (its default non-blocking mode)
// rather than net/http. ReleaseWebsocketPayload returns each message's
// buffer to nbio's pool once OnMessage returns (WriteMessage has copied
// it by then), as nbio's DefaultEngine and its examples do; an engine of
// one's own leaves it off, and every message's buffer is then garbage.
func serveNbio(ctx context.Context, addr string, ready func(net.Addr)) error {
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.MessageLengthLimit = ReadLimit
	up.KeepaliveTime = 0
	up.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, p []byte) {
		_ = c.WriteMessage(typ, p)
	})
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = up.Upgrade(w, r, nil)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:   "tcp",
		Listen:    func(string, string) (net.Listener, error) { return ln, nil },
		Addrs:     []string{addr},
		Handler:   mux,
		MaxLoad:   1 << 20,
		ReadLimit: ReadLimit + 1<<10,

		ReleaseWebsocketPayload: true,
	})
	if err := engine.Start(); err != nil {
		return err
	}
	ready(ln.Addr())
	<-ctx.Done()
	return engine.Shutdown(context.Background())
}
