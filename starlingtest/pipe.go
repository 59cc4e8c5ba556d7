// Package starlingtest helps test code that uses Starling, without a
// network.
package starlingtest

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/starling-ws/starling"
)

// Options configures Pipe. A nil field means the defaults.
type Options struct {
	// Dial configures the client end. Its Proxy, NetDialContext and
	// HTTP2Transport are replaced: the client dials the pipe.
	Dial *starling.DialOptions
	// Accept configures the server end.
	Accept *starling.AcceptOptions
}

// Pipe returns the two ends of one WebSocket connection in memory: the
// client end as Dial returns it and the server end as Accept returns it,
// after a real opening handshake, so that subprotocols and
// permessage-deflate are negotiated as over a network. ctx bounds the
// handshake. opts may be nil.
//
// The transport is net.Pipe, which buffers nothing: a write returns only
// once the other end has read it, so read each end from a goroutine of its
// own while the other writes, as any peer does.
func Pipe(ctx context.Context, opts *Options) (client, server *starling.Conn, err error) {
	var dial starling.DialOptions
	var accept starling.AcceptOptions
	if opts != nil && opts.Dial != nil {
		dial = *opts.Dial
	}
	if opts != nil && opts.Accept != nil {
		accept = *opts.Accept
	}
	cn, sn := net.Pipe()
	dial.Proxy, dial.HTTP2Transport = starling.NoProxy, nil
	dial.NetDialContext = func(context.Context, string, string) (net.Conn, error) { return cn, nil }

	type accepted struct {
		c   *starling.Conn
		err error
	}
	done := make(chan accepted, 1)
	go func() {
		hs, err := starling.ReadHandshake(ctx, sn)
		if err != nil {
			done <- accepted{err: err}
			return
		}
		c, err := hs.Accept(&accept)
		done <- accepted{c, err}
	}()
	client, _, dialErr := starling.Dial(ctx, "ws://pipe/", &dial)
	if dialErr != nil {
		// The server may still wait for the rest of a request.
		_ = cn.Close()
	}
	a := <-done
	if dialErr == nil && a.err == nil {
		return client, a.c, nil
	}
	_ = cn.Close()
	_ = sn.Close()
	if dialErr == nil {
		_ = client.CloseNow()
	}
	return nil, nil, fmt.Errorf("starlingtest: handshake: %w", errors.Join(dialErr, a.err))
}
