// Package echo runs a WebSocket echo server with one of several
// implementations, all with the same behaviour: every data message is sent
// back with its opcode, compression is off, and messages up to ReadLimit
// bytes are accepted.
package echo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"
)

// ReadLimit is the largest message every echo server accepts.
const ReadLimit = 64 << 20

// A server serves WebSocket echo on addr until ctx ends.
type server func(ctx context.Context, addr string, ready func(net.Addr)) error

// servers maps an implementation name to its echo server.
var servers = map[string]server{}

func register(name string, s server) { servers[name] = s }

// Impls returns the names of the implementations, sorted.
func Impls() []string {
	names := make([]string, 0, len(servers))
	for n := range servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Serve runs the echo server of impl on addr until ctx ends. ready, if not
// nil, is called with the listening address once connections are accepted.
func Serve(ctx context.Context, impl, addr string, ready func(net.Addr)) error {
	s, ok := servers[impl]
	if !ok {
		return fmt.Errorf("echo: unknown implementation %q (have %v)", impl, Impls())
	}
	if ready == nil {
		ready = func(net.Addr) {}
	}
	return s(ctx, addr, ready)
}

// serveHTTP serves h with net/http, the way every implementation but nbio
// is deployed.
func serveHTTP(ctx context.Context, addr string, ready func(net.Addr), h http.HandlerFunc) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	ready(ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// serveRaw accepts TCP connections on addr itself, without net/http, and
// hands each to handle on a goroutine of its own, until ctx ends.
func serveRaw(ctx context.Context, addr string, ready func(net.Addr), handle func(net.Conn)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	ready(ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go handle(conn)
	}
}
