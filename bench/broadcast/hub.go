package broadcast

import (
	"context"
	"net"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// starling-hub is Starling's hub package: every connection joins a topic
// named after the listener that accepted it, and a broadcast is one
// Publish, which prepares the message once and queues it for every
// connection, each drained by a goroutine that lives while its queue is
// not empty. It is not in the default comparison (its fan-out is not the
// shared one): it shows what the hub costs over starling's WritePrepared
// from Workers goroutines.
func init() {
	h := hub.New(nil)
	register("starling-hub", implementation{
		serve: func(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
			topic := ln.Addr().String()
			return serveStarling(ctx, ln, compress, func(c any) {
				if err := h.Subscribe(c.(*starling.Conn), topic); err == nil {
					add(c)
				}
			})
		},
		publish: func(ctx context.Context, addr net.Addr, data []byte) error {
			return h.Publish(ctx, addr.String(), starling.MessageText, data)
		},
	})
}
