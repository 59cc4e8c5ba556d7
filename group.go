package starling

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Group tracks a server's live connections so they can be closed together
// on shutdown. Set AcceptOptions.Group to add every accepted connection; a
// connection leaves the group when it closes. The zero value is ready.
type Group struct {
	mu      sync.Mutex
	conns   map[*Conn]struct{}
	closing bool
}

// add adds c, or reports false if the group is shutting down.
func (g *Group) add(c *Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	if g.conns == nil {
		g.conns = make(map[*Conn]struct{})
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Group) remove(c *Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// Len returns the number of live connections.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Shutdown sends Going Away (1001) to every connection, waits for their
// close handshakes until ctx ends, and then drops the connections that are
// left. Connections accepted after Shutdown starts are closed at once. It
// returns ctx's error if it had to drop any (with the cause ctx was
// canceled with, if any, in its chain), and nil otherwise, even if ctx
// has ended.
func (g *Group) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closing = true
	conns := make([]*Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { _ = c.Close(StatusGoingAway, "server shutting down") })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	dropped := false
	for _, c := range conns {
		if !c.isClosed() {
			dropped = true
			_ = c.CloseNow()
		}
	}
	if !dropped {
		return nil
	}
	return ctxError(ctx)
}

// ShutdownWith makes srv.Shutdown also shut the group down, allowing the
// close handshakes up to timeout. http.Server.Shutdown does not wait for
// hijacked connections, so call Group.Shutdown yourself if the program must
// not exit before they are closed.
func (g *Group) ShutdownWith(srv *http.Server, timeout time.Duration) {
	srv.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = g.Shutdown(ctx)
	})
}
