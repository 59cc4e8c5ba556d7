package echo

import (
	"context"
	"net"
	"net/http"

	"github.com/starling-ws/starling"
)

func init() {
	register("starling", serveStarling)
	register("starling-raw", serveStarlingRaw)
}

// serveStarling echoes with ReadSlice and Write (see echoStarling). The
// handler returns right after Accept and the connection is
// served from a fresh goroutine, the idiom Starling documents for many
// connections: net/http's per-request state (its 4 KiB reader and writer,
// the handler's grown stack) is then released.
func serveStarling(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &starling.AcceptOptions{ReadLimit: ReadLimit, InsecureSkipOriginCheck: true}
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		go echoStarling(c)
	})
}

// serveStarlingRaw skips net/http, as gobwas-raw does: it accepts TCP
// connections itself and answers each handshake with ReadHandshake, on a
// goroutine that then starts a fresh one for the connection (so the
// connection's goroutine does not inherit the stack the handshake grew).
func serveStarlingRaw(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &starling.AcceptOptions{ReadLimit: ReadLimit, InsecureSkipOriginCheck: true}
	return serveRaw(ctx, addr, ready, func(nc net.Conn) {
		hs, err := starling.ReadHandshake(ctx, nc)
		if err != nil {
			return
		}
		c, err := hs.Accept(opts)
		if err != nil {
			return
		}
		go echoStarling(c)
	})
}

// echoStarling reads with ReadSlice, which lends each message from the
// connection's buffers (pooled, so shared by all connections) instead of
// copying it into one of the handler's, and writes it back before the
// next read.
func echoStarling(c *starling.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, p, err := c.ReadSlice(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}
