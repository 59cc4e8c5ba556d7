// Package broadcast measures sending one message to many WebSocket
// connections with several implementations, each using its own broadcast
// idiom: a message prepared (framed, and compressed when permessage-deflate
// is on) once and written to every connection where the library offers
// that, a plain write per connection where it does not.
//
// A Server accepts connections and, on Broadcast, writes one text message
// to every connection it holds through the same fan-out for every
// implementation (see Workers). A Client holds many connections and
// reports when every one of them has received a message intact.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
)

// An implementation accepts connections and prepares messages for them.
type implementation struct {
	// serve accepts WebSocket connections on ln, negotiating
	// permessage-deflate (RFC 7692) when compress is set, and passes each
	// to add, until ctx ends.
	serve func(ctx context.Context, ln net.Listener, compress bool, add func(any)) error
	// prepare makes data into a text message for the connections serve
	// passed to add.
	prepare func(data []byte) (message, error)
	// publish, if set, replaces prepare and the shared fan-out: it sends
	// data to every connection that serve accepted on the listener at
	// addr, by the implementation's own means.
	publish func(ctx context.Context, addr net.Addr, data []byte) error
}

// A message is one broadcast, prepared once for all connections.
type message interface {
	// writeTo sends the message on c, a connection serve passed to add.
	writeTo(ctx context.Context, c any) error
	// release is called once every writeTo has returned.
	release()
}

var impls = map[string]implementation{}

func register(name string, i implementation) { impls[name] = i }

// Impls returns the names of the implementations, sorted.
func Impls() []string {
	names := make([]string, 0, len(impls))
	for n := range impls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Server is a running broadcast server of one implementation.
type Server struct {
	impl implementation
	addr net.Addr
	stop context.CancelFunc
	done chan error

	mu    sync.Mutex
	conns []any         // append-only, so a prefix can be read without the lock
	more  chan struct{} // closed and replaced whenever a connection is added
}

// Start listens on addr and serves impl's broadcast server until Close.
// With compress, the server accepts permessage-deflate.
func Start(impl, addr string, compress bool) (*Server, error) {
	i, ok := impls[impl]
	if !ok {
		return nil, fmt.Errorf("broadcast: unknown implementation %q (have %v)", impl, Impls())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{impl: i, addr: ln.Addr(), stop: stop, done: make(chan error, 1), more: make(chan struct{})}
	go func() { s.done <- i.serve(ctx, ln, compress, s.add) }()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

func (s *Server) add(c any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = append(s.conns, c)
	close(s.more)
	s.more = make(chan struct{})
}

// Conns returns the number of connections accepted so far. Connections
// stay counted until the server closes, even if the peer left.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConns waits until at least n connections have been accepted.
func (s *Server) WaitConns(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		have, more := len(s.conns), s.more
		s.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-more:
		case <-ctx.Done():
			return fmt.Errorf("broadcast: %d of %d connections: %w", have, n, ctx.Err())
		}
	}
}

// Broadcast prepares data as one text message and writes it to every
// connection accepted so far, with Workers goroutines. It returns when
// every write has returned; for libraries that write asynchronously (gws,
// starling-hub) that is when every write was queued, not sent.
func (s *Server) Broadcast(ctx context.Context, data []byte) error {
	s.mu.Lock()
	conns := s.conns[:len(s.conns):len(s.conns)]
	s.mu.Unlock()
	if s.impl.publish != nil {
		return s.impl.publish(ctx, s.addr, data)
	}
	m, err := s.impl.prepare(data)
	if err != nil {
		return err
	}
	defer m.release()
	return fanOut(ctx, conns, m)
}

// Close stops the server and closes its listener. Connections already
// accepted are left to the process's end.
func (s *Server) Close() error {
	s.stop()
	err := <-s.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
