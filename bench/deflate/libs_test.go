package deflate

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/starling-ws/starling"
)

const readLimit = 64 << 20

// mode is the compression a connection negotiates.
type mode int

const (
	off mode = iota
	takeover
	noTakeover
)

func (m mode) String() string {
	return [...]string{"off", "takeover", "notakeover"}[m]
}

// endpoint is one side of a connection, whatever its library.
type endpoint interface {
	// write sends p as one binary message.
	write(p []byte) error
	// read returns the next message, read into buf when it fits.
	read(buf []byte) ([]byte, error)
	close()
}

// library is one implementation under test.
type library struct {
	name  string
	modes []mode // the compression modes it can negotiate
	// serve returns a handler that upgrades with mode m and sends each
	// connection's endpoint on conns.
	serve func(m mode, conns chan<- endpoint) http.HandlerFunc
	// dial opens a client connection offering mode m.
	dial func(ctx context.Context, url string, m mode) (endpoint, *http.Response, error)
}

var libraries = []library{
	{"starling", []mode{off, takeover, noTakeover}, serveStarling(0), dialStarling(0)},
	// Takeover through a 1 KiB history (CompressionOptions.History)
	// instead of a flate.Writer per connection.
	{"starling-history1K", []mode{off, takeover}, serveStarling(1 << 10), dialStarling(1 << 10)},
	{"coder", []mode{off, takeover, noTakeover}, serveCoder, dialCoder},
	{"gws", []mode{off, takeover, noTakeover}, serveGWS, dialGWS},
	{"gorilla", []mode{off, noTakeover}, serveGorilla, dialGorilla},
}

// readAll reads r to its end into buf, growing it if the message is
// larger.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:cap(buf)]
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, 0)
			buf = buf[:cap(buf)]
		}
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Starling: Write, and ReadAppend into the reused buffer.

func starlingCompression(m mode, history int) starling.CompressionOptions {
	return starling.CompressionOptions{Mode: map[mode]starling.CompressionMode{
		off:        starling.CompressionDisabled,
		takeover:   starling.CompressionContextTakeover,
		noTakeover: starling.CompressionNoContextTakeover,
	}[m], History: history}
}

func serveStarling(history int) func(m mode, conns chan<- endpoint) http.HandlerFunc {
	return func(m mode, conns chan<- endpoint) http.HandlerFunc {
		opts := &starling.AcceptOptions{Compression: starlingCompression(m, history), ReadLimit: readLimit}
		return func(w http.ResponseWriter, r *http.Request) {
			if c, err := starling.Accept(w, r, opts); err == nil {
				conns <- starlingConn{c}
			}
		}
	}
}

func dialStarling(history int) func(ctx context.Context, url string, m mode) (endpoint, *http.Response, error) {
	return func(ctx context.Context, url string, m mode) (endpoint, *http.Response, error) {
		c, resp, err := starling.Dial(ctx, url, &starling.DialOptions{Compression: starlingCompression(m, history), ReadLimit: readLimit})
		return starlingConn{c}, resp, err
	}
}

type starlingConn struct{ c *starling.Conn }

func (s starlingConn) write(p []byte) error {
	return s.c.Write(context.Background(), starling.MessageBinary, p)
}

func (s starlingConn) read(buf []byte) ([]byte, error) {
	_, p, err := s.c.ReadAppend(context.Background(), buf[:0])
	return p, err
}

func (s starlingConn) close() { s.c.CloseNow() }

// coder: Write, and Reader into the reused buffer.

func coderCompression(m mode) websocket.CompressionMode {
	return map[mode]websocket.CompressionMode{
		off:        websocket.CompressionDisabled,
		takeover:   websocket.CompressionContextTakeover,
		noTakeover: websocket.CompressionNoContextTakeover,
	}[m]
}

func serveCoder(m mode, conns chan<- endpoint) http.HandlerFunc {
	opts := &websocket.AcceptOptions{CompressionMode: coderCompression(m)}
	return func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, opts); err == nil {
			c.SetReadLimit(readLimit)
			conns <- coderConn{c}
		}
	}
}

func dialCoder(ctx context.Context, url string, m mode) (endpoint, *http.Response, error) {
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: coderCompression(m)})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(readLimit)
	return coderConn{c}, resp, nil
}

type coderConn struct{ c *websocket.Conn }

func (k coderConn) write(p []byte) error {
	return k.c.Write(context.Background(), websocket.MessageBinary, p)
}

func (k coderConn) read(buf []byte) ([]byte, error) {
	_, r, err := k.c.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	return readAll(r, buf)
}

func (k coderConn) close() { k.c.CloseNow() }

// gws: WriteMessage, and OnMessage on the ReadLoop goroutine, which copies
// the message into the reader's buffer.

func gwsDeflate(m mode) gws.PermessageDeflate {
	return gws.PermessageDeflate{
		Enabled:               m != off,
		ServerContextTakeover: m == takeover,
		ClientContextTakeover: m == takeover,
		ServerMaxWindowBits:   15,
		ClientMaxWindowBits:   15,
	}
}

// serveGWS shares one Upgrader, as a gws server would: with compression
// on, it holds a pool of compressors that all its connections share, made
// here, before BenchmarkMemory's baseline. Its event handler finds each
// connection's endpoint in the connection's session.
func serveGWS(m mode, conns chan<- endpoint) http.HandlerFunc {
	up := gws.NewUpgrader(gwsRouter{}, &gws.ServerOption{
		PermessageDeflate:   gwsDeflate(m),
		ReadMaxPayloadSize:  readLimit,
		WriteMaxPayloadSize: readLimit,
	})
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		h := newGWSConn(c)
		c.Session().Store("endpoint", h)
		go c.ReadLoop()
		conns <- h
	}
}

// gwsRouter passes a server connection's events to its endpoint.
type gwsRouter struct{ gws.BuiltinEventHandler }

func (gwsRouter) OnMessage(c *gws.Conn, m *gws.Message) { gwsEndpoint(c).OnMessage(c, m) }
func (gwsRouter) OnClose(c *gws.Conn, err error)        { gwsEndpoint(c).OnClose(c, err) }

func gwsEndpoint(c *gws.Conn) *gwsConn {
	h, _ := c.Session().Load("endpoint")
	return h.(*gwsConn)
}

func dialGWS(_ context.Context, url string, m mode) (endpoint, *http.Response, error) {
	h := newGWSConn(nil)
	c, resp, err := gws.NewClient(h, &gws.ClientOption{
		Addr:                url,
		PermessageDeflate:   gwsDeflate(m),
		ReadMaxPayloadSize:  readLimit,
		WriteMaxPayloadSize: readLimit,
	})
	if err != nil {
		return nil, resp, err
	}
	h.c = c
	go c.ReadLoop()
	return h, resp, nil
}

type gwsConn struct {
	gws.BuiltinEventHandler
	c    *gws.Conn
	want chan []byte // the reader's buffer, handed to the ReadLoop goroutine
	got  chan []byte
	err  chan error
	done chan struct{} // closed by close, to free a ReadLoop waiting in OnMessage
}

func newGWSConn(c *gws.Conn) *gwsConn {
	return &gwsConn{c: c, want: make(chan []byte, 1), got: make(chan []byte, 1), err: make(chan error, 1), done: make(chan struct{})}
}

func (g *gwsConn) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	select {
	case buf := <-g.want:
		g.got <- append(buf[:0], m.Bytes()...)
	case <-g.done:
	}
}

func (g *gwsConn) OnClose(_ *gws.Conn, err error) { g.err <- err }

func (g *gwsConn) write(p []byte) error { return g.c.WriteMessage(gws.OpcodeBinary, p) }

func (g *gwsConn) read(buf []byte) ([]byte, error) {
	g.want <- buf
	select {
	case p := <-g.got:
		return p, nil
	case err := <-g.err:
		return nil, err
	}
}

func (g *gwsConn) close() {
	close(g.done)
	g.c.NetConn().Close()
}

// gorilla: WriteMessage, and NextReader into the reused buffer. It
// compresses only without context takeover.

func serveGorilla(m mode, conns chan<- endpoint) http.HandlerFunc {
	up := &gorilla.Upgrader{EnableCompression: m != off}
	return func(w http.ResponseWriter, r *http.Request) {
		if c, err := up.Upgrade(w, r, nil); err == nil {
			c.SetReadLimit(readLimit)
			conns <- gorillaConn{c}
		}
	}
}

func dialGorilla(ctx context.Context, url string, m mode) (endpoint, *http.Response, error) {
	d := &gorilla.Dialer{EnableCompression: m != off}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(readLimit)
	return gorillaConn{c}, resp, nil
}

type gorillaConn struct{ c *gorilla.Conn }

func (g gorillaConn) write(p []byte) error { return g.c.WriteMessage(gorilla.BinaryMessage, p) }

func (g gorillaConn) read(buf []byte) ([]byte, error) {
	_, r, err := g.c.NextReader()
	if err != nil {
		return nil, err
	}
	return readAll(r, buf)
}

func (g gorillaConn) close() { g.c.Close() }
