package broadcast

import (
	"context"
	"net"
	"net/http"
	"time"
)

// serveHTTP serves h on ln with net/http until ctx ends, the way every
// implementation but nbio is deployed.
func serveHTTP(ctx context.Context, ln net.Listener, h http.HandlerFunc) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
