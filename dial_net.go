//go:build !js

package starling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// dialConn connects to u and performs the opening handshake over TCP (or
// through a proxy, and TLS for wss), or over HTTP/2 or HTTP/3 with HTTP2Transport.
func dialConn(ctx context.Context, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts.HTTP2Transport != nil {
		return dialStream(ctx, u, opts)
	}
	nc, err := dialTransport(ctx, u, opts)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	if deadline, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	c, resp, err := handshake(nc, u, opts)
	if !stop() {
		err = fmt.Errorf("starling: dial %s: %w", u.Redacted(), ctxError(ctx))
	} else if deadline, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline) {
		// The connection's deadline, which is ctx's, fired before ctx's
		// own timer did; report it as ctx's end all the same.
		err = fmt.Errorf("starling: dial %s: %w", u.Redacted(), context.DeadlineExceeded)
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, resp, nil
}
