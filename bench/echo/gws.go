package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/lxzan/gws"
)

func init() {
	register("gws", serveGWS)
}

// gwsEcho is the gws event handler: it writes each message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// serveGWS runs gws's ReadLoop on the handler's goroutine.
func serveGWS(ctx context.Context, addr string, ready func(net.Addr)) error {
	up := gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{
		ReadMaxPayloadSize:  ReadLimit,
		WriteMaxPayloadSize: ReadLimit,
	})
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})
}
