package broadcast

import (
	"context"
	"net"
	"net/http"

	"github.com/lxzan/gws"
)

func init() {
	register("gws", implementation{serve: serveGWS, prepare: prepareGWS})
}

// gwsHandler ignores every event: the clients send nothing.
type gwsHandler struct{ gws.BuiltinEventHandler }

// serveGWS accepts with permessage-deflate without context takeover when
// asked, and runs gws's ReadLoop on the handler's goroutine.
func serveGWS(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	up := gws.NewUpgrader(gwsHandler{}, &gws.ServerOption{
		PermessageDeflate: gws.PermessageDeflate{Enabled: compress},
	})
	return serveHTTP(ctx, ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		add(c)
		c.ReadLoop()
	})
}

// gwsMessage is gws's broadcast idiom, its Broadcaster: the frame is
// made (and compressed) once, and Broadcast queues its write on the
// connection's own write queue, so the write happens on a goroutine of
// gws's and Broadcast returns before it is done.
type gwsMessage struct{ b *gws.Broadcaster }

func prepareGWS(data []byte) (message, error) {
	return gwsMessage{gws.NewBroadcaster(gws.OpcodeText, data)}, nil
}

func (m gwsMessage) writeTo(_ context.Context, c any) error {
	gc, ok := c.(*gws.Conn)
	if !ok {
		return errUnexpected
	}
	return m.b.Broadcast(gc)
}

// release lets the Broadcaster free its frames once the queued writes are
// done.
func (m gwsMessage) release() { m.b.Close() }
