package clientbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/lxzan/gws"
	"github.com/starling-ws/starling"
)

const readLimit = 64 << 20

// Starling, Read: the whole-message API, which returns a new slice.
func BenchmarkStarlingRead(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		c, _, err := starling.Dial(ctx, url, &starling.DialOptions{ReadLimit: readLimit})
		return starlingClient{c, false}, err
	})
}

// Starling, Reader: the streaming API into the caller's buffer.
func BenchmarkStarlingReader(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		c, _, err := starling.Dial(ctx, url, &starling.DialOptions{ReadLimit: readLimit})
		return starlingClient{c, true}, err
	})
}

type starlingClient struct {
	c      *starling.Conn
	reader bool
}

func (s starlingClient) echo(p, buf []byte) ([]byte, error) {
	ctx := context.Background()
	if err := s.c.Write(ctx, starling.MessageBinary, p); err != nil {
		return nil, err
	}
	if !s.reader {
		_, b, err := s.c.Read(ctx)
		return b, err
	}
	_, r, err := s.c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	return readAll(r, buf)
}

func (s starlingClient) close() { s.c.CloseNow() }

// readAll reads r to its end into buf, which has room for the message.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

// gorilla: WriteMessage, then NextReader into the caller's buffer.
func BenchmarkGorilla(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		c, _, err := gorilla.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(readLimit)
		return gorillaClient{c}, nil
	})
}

type gorillaClient struct{ c *gorilla.Conn }

func (g gorillaClient) echo(p, buf []byte) ([]byte, error) {
	if err := g.c.WriteMessage(gorilla.BinaryMessage, p); err != nil {
		return nil, err
	}
	_, r, err := g.c.NextReader()
	if err != nil {
		return nil, err
	}
	return readAll(r, buf)
}

func (g gorillaClient) close() { g.c.Close() }

// coder: Write, then Reader into the caller's buffer.
func BenchmarkCoder(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(readLimit)
		return coderClient{c}, nil
	})
}

type coderClient struct{ c *websocket.Conn }

func (k coderClient) echo(p, buf []byte) ([]byte, error) {
	ctx := context.Background()
	if err := k.c.Write(ctx, websocket.MessageBinary, p); err != nil {
		return nil, err
	}
	_, r, err := k.c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	return readAll(r, buf)
}

func (k coderClient) close() { k.c.CloseNow() }

// gobwas: the low-level API, masking into a reused frame buffer with a
// fresh key per message, and reading the reply through a bufio.Reader.
func BenchmarkGobwas(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		nc, br, _, err := ws.Dial(ctx, url)
		if err != nil {
			return nil, err
		}
		if br == nil {
			br = bufio.NewReader(nc)
		}
		return &gobwasClient{nc: nc, br: br}, nil
	})
}

type gobwasClient struct {
	nc      net.Conn
	br      *bufio.Reader
	frame   []byte
	scratch [ws.MaxHeaderSize]byte
}

func (g *gobwasClient) echo(p, buf []byte) ([]byte, error) {
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(len(p)), Masked: true}
	if _, err := rand.Read(h.Mask[:]); err != nil {
		return nil, err
	}
	hs := ws.HeaderSize(h)
	if cap(g.frame) < hs+len(p) {
		g.frame = make([]byte, hs+len(p))
	}
	f := g.frame[:hs+len(p)]
	if err := ws.WriteHeaderBuffer(sliceWriter(f[:hs]), h, g.scratch[:]); err != nil {
		return nil, err
	}
	copy(f[hs:], p)
	ws.Cipher(f[hs:], h.Mask, 0)
	if _, err := g.nc.Write(f); err != nil {
		return nil, err
	}
	n := 0
	for {
		rh, err := ws.ReadHeader(g.br)
		if err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(g.br, buf[n:n+int(rh.Length)]); err != nil {
			return nil, err
		}
		n += int(rh.Length)
		if rh.Fin {
			return buf[:n], nil
		}
	}
}

func (g *gobwasClient) close() { g.nc.Close() }

type sliceWriter []byte

func (s sliceWriter) Write(p []byte) (int, error) { return copy(s, p), nil }

// gws: WriteMessage, with the echo delivered to OnMessage on the ReadLoop
// goroutine, which copies it into the caller's buffer.
func BenchmarkGWS(b *testing.B) {
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		h := &gwsClient{want: make(chan []byte, 1), got: make(chan int, 1)}
		c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: url, ReadMaxPayloadSize: readLimit, WriteMaxPayloadSize: readLimit})
		if err != nil {
			return nil, err
		}
		h.c = c
		go c.ReadLoop()
		return h, nil
	})
}

type gwsClient struct {
	gws.BuiltinEventHandler
	c    *gws.Conn
	want chan []byte // the caller's buffer, handed to the ReadLoop goroutine
	got  chan int
}

func (g *gwsClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	n := copy(<-g.want, m.Bytes())
	m.Close()
	g.got <- n
}

func (g *gwsClient) echo(p, buf []byte) ([]byte, error) {
	g.want <- buf
	if err := g.c.WriteMessage(gws.OpcodeBinary, p); err != nil {
		return nil, err
	}
	return buf[:<-g.got], nil
}

func (g *gwsClient) close() { g.c.NetConn().Close() }

// nbio: WriteMessage, with the echo delivered to OnMessage on a goroutine
// of the client's own nbio engine (its epoll poller), which copies it
// into the caller's buffer. Each connection has its own engine, started
// and stopped with it, so its goroutines count as client cost.
func BenchmarkNbio(b *testing.B) {
	logging.SetLevel(logging.LevelNone) // it logs every engine start and stop
	benchClient(b, func(ctx context.Context, url string) (echoer, error) {
		engine := nbhttp.NewEngine(nbhttp.Config{ReadLimit: readLimit + 1<<10, ReleaseWebsocketPayload: true})
		if err := engine.Start(); err != nil {
			return nil, err
		}
		n := &nbioClient{engine: engine, want: make(chan []byte, 1), got: make(chan int, 1)}
		u := nbws.NewUpgrader()
		u.MessageLengthLimit = readLimit
		u.KeepaliveTime = 0
		u.OnMessage(n.onMessage)
		d := &nbws.Dialer{Engine: engine, Upgrader: u}
		c, _, err := d.DialContext(ctx, url, nil)
		if err != nil {
			engine.Stop()
			return nil, err
		}
		n.c = c
		return n, nil
	})
}

type nbioClient struct {
	engine *nbhttp.Engine
	c      *nbws.Conn
	want   chan []byte // the caller's buffer, handed to the engine's goroutine
	got    chan int
}

func (n *nbioClient) onMessage(_ *nbws.Conn, _ nbws.MessageType, p []byte) {
	n.got <- copy(<-n.want, p)
}

func (n *nbioClient) echo(p, buf []byte) ([]byte, error) {
	n.want <- buf
	if err := n.c.WriteMessage(nbws.BinaryMessage, p); err != nil {
		return nil, err
	}
	return buf[:<-n.got], nil
}

func (n *nbioClient) close() {
	n.c.Close()
	n.engine.Stop()
}
