// Package server is the demo server behind "starling serve": an echo
// endpoint, a broadcast chat room with its web page, and a ticker of
// simulated prices, all tracked so that a shutdown can say goodbye to every
// connection with 1001 Going Away (RFC 6455 section 7.4.1).
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// Options configures a Server.
type Options struct {
	// Accept is passed to starling.Accept for every endpoint; its Group
	// is replaced by the server's own.
	Accept *starling.AcceptOptions
	// Logger receives one record per connection opened and closed, the
	// latter with the close code and what the connection carried.
	// Default: slog.Default().
	Logger *slog.Logger
	// Page holds the files served at "/" (index.html and its assets).
	Page fs.FS
	// TickInterval is the time between two rounds of quotes on /ticker.
	// Default: 500ms.
	TickInterval time.Duration
}

// Server serves /echo, /chat, /ticker and the page at /.
type Server struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	room  *Room
	feed  *Feed
	stop  context.CancelFunc
	ended chan struct{}

	accept   starling.AcceptOptions
	group    starling.Group
	handlers sync.WaitGroup
}

// New returns a Server whose ticker runs until Shutdown.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = 500 * time.Millisecond
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		opts:  opts,
		log:   opts.Logger,
		mux:   http.NewServeMux(),
		room:  NewRoom(),
		feed:  NewFeed(hub.New(&hub.Options{QueueSize: subscriberQueue, Overflow: hub.DropNewest})),
		stop:  stop,
		ended: make(chan struct{}),
	}
	if opts.Accept != nil {
		s.accept = *opts.Accept
	}
	s.accept.Group = &s.group
	go func() {
		defer close(s.ended)
		s.feed.Run(ctx, opts.TickInterval)
	}()
	s.mux.HandleFunc("/echo", s.upgrade("echo", serveEcho))
	s.mux.HandleFunc("/chat", s.upgrade("chat", s.serveChat))
	s.mux.HandleFunc("/ticker", s.upgrade("ticker", s.serveTicker))
	if opts.Page != nil {
		s.mux.Handle("/", http.FileServerFS(opts.Page))
	}
	return s
}

// ServeHTTP routes a request to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// upgrade returns a handler that accepts the WebSocket handshake into the
// server's Group and runs serve on the connection.
func (s *Server) upgrade(name string, serve func(*starling.Conn, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.handlers.Add(1)
		defer s.handlers.Done()
		c, err := starling.Accept(w, r, &s.accept)
		if err != nil {
			s.log.Info("handshake refused", "endpoint", name, "remote", r.RemoteAddr, "err", err)
			return
		}
		defer c.CloseNow()
		s.log.Info("open", "endpoint", name, "remote", r.RemoteAddr)
		err = serve(c, r)
		st := c.Stats()
		s.log.Info("closed", "endpoint", name, "remote", r.RemoteAddr, "code", int(starling.CloseStatus(err)), "err", err,
			"msgs_in", st.MessagesRead, "msgs_out", st.MessagesWritten, "bytes_in", st.BytesRead, "bytes_out", st.BytesWritten)
	}
}

// Shutdown stops the ticker, closes every WebSocket connection with 1001
// Going Away (through the Group), and waits for the handlers to return or
// for ctx to end. Stop the http.Server first so that no new connection
// arrives; the Group closes a late one as soon as it is accepted.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	<-s.ended
	err := s.group.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
