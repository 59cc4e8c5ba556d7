package broadcast

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

func init() {
	register("gobwas", implementation{serve: serveGobwas, prepare: prepareGobwas})
}

// gobwasConn is an upgraded connection and whether it negotiated
// permessage-deflate.
type gobwasConn struct {
	nc      net.Conn
	deflate bool
}

// serveGobwas upgrades with gobwas/ws, negotiating permessage-deflate
// through wsflate.Extension when asked, and reads each connection on the
// handler's goroutine, discarding frames, until it closes.
func serveGobwas(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	return serveHTTP(ctx, ln, func(w http.ResponseWriter, r *http.Request) {
		var up ws.HTTPUpgrader
		ext := wsflate.Extension{Parameters: wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
		if compress {
			up.Negotiate = ext.Negotiate
		}
		nc, _, _, err := up.Upgrade(r, w)
		if err != nil {
			return
		}
		defer nc.Close()
		_, deflate := ext.Accepted()
		add(&gobwasConn{nc: nc, deflate: deflate})
		for {
			h, err := ws.ReadHeader(nc)
			if err != nil || h.OpCode == ws.OpClose {
				return
			}
			if _, err := io.CopyN(io.Discard, nc, h.Length); err != nil {
				return
			}
		}
	})
}

// gobwasMessage is the broadcast idiom of gobwas/ws's low-level API: the
// frame is encoded once (and compressed once, on first need, for the
// connections that negotiated permessage-deflate) and its bytes are
// written to each net.Conn.
type gobwasMessage struct {
	data   []byte
	plain  []byte
	once   sync.Once
	zipped []byte
	err    error
}

// gobwasFlate is the compressor a careful gobwas user keeps and resets
// rather than allocating one (about 1 MiB) per message.
var gobwasFlate = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	return wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
		fw.Reset(w)
		return fw
	})
}}

func prepareGobwas(data []byte) (message, error) {
	plain, err := gobwasFrame(ws.Header{Fin: true, OpCode: ws.OpText}, data)
	return &gobwasMessage{data: data, plain: plain}, err
}

// gobwasFrame returns h and payload encoded as one unmasked frame.
func gobwasFrame(h ws.Header, payload []byte) ([]byte, error) {
	h.Length = int64(len(payload))
	var b bytes.Buffer
	b.Grow(ws.HeaderSize(h) + len(payload))
	if err := ws.WriteHeader(&b, h); err != nil {
		return nil, err
	}
	b.Write(payload)
	return b.Bytes(), nil
}

// compressed returns the frame compressed without context takeover
// (RFC 7692 section 7.2.1), encoding it on first use.
func (m *gobwasMessage) compressed() ([]byte, error) {
	m.once.Do(func() {
		var b bytes.Buffer
		fw := gobwasFlate.Get().(*wsflate.Writer)
		defer gobwasFlate.Put(fw)
		fw.Reset(&b)
		if _, err := fw.Write(m.data); err != nil {
			m.err = err
			return
		}
		if m.err = fw.Close(); m.err != nil {
			return
		}
		m.zipped, m.err = gobwasFrame(ws.Header{Fin: true, OpCode: ws.OpText, Rsv: ws.Rsv(true, false, false)}, b.Bytes())
	})
	return m.zipped, m.err
}

func (m *gobwasMessage) writeTo(_ context.Context, c any) error {
	gc, ok := c.(*gobwasConn)
	if !ok {
		return errUnexpected
	}
	f := m.plain
	if gc.deflate {
		var err error
		if f, err = m.compressed(); err != nil {
			return err
		}
	}
	_, err := gc.nc.Write(f)
	return err
}

func (*gobwasMessage) release() {}
