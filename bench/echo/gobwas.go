package echo

import (
	"context"
	"io"
	"net"
	"net/http"

	"github.com/gobwas/ws"
)

func init() {
	register("gobwas", serveGobwas)
	register("gobwas-raw", serveGobwasRaw)
}

// serveGobwas echoes with gobwas/ws's low-level API, its fastest idiom:
// read a header straight from the connection, read the payload into a
// buffer the connection reuses, unmask it in place, and send header and
// payload back in one write. Frames are echoed one by one, which is the
// same as echoing messages for the unfragmented messages the load
// generator sends. Control frames: a ping is answered, a close is
// echoed and ends the connection.
func serveGobwas(ctx context.Context, addr string, ready func(net.Addr)) error {
	return serveHTTP(ctx, addr, ready, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		gobwasEcho(conn)
	})
}

// serveGobwasRaw skips net/http: it accepts TCP connections itself and
// upgrades them with ws.Upgrade, gobwas's zero-copy handshake, so that no
// net/http state or handler stack stays behind each connection. It shows
// what goroutine-per-connection costs without net/http.
func serveGobwasRaw(ctx context.Context, addr string, ready func(net.Addr)) error {
	return serveRaw(ctx, addr, ready, func(conn net.Conn) {
		if _, err := ws.Upgrade(conn); err != nil {
			conn.Close()
			return
		}
		gobwasEcho(conn)
	})
}

// gobwasEcho echoes frames on conn until it fails or closes.
func gobwasEcho(conn net.Conn) {
	defer conn.Close()
	var buf []byte // header room, then payload
	var scratch [ws.MaxHeaderSize]byte
	for {
		h, err := ws.ReadHeader(conn)
		if err != nil || h.Length > ReadLimit {
			return
		}
		n := int(h.Length)
		if cap(buf) < ws.MaxHeaderSize+n {
			buf = make([]byte, ws.MaxHeaderSize+n)
		}
		p := buf[ws.MaxHeaderSize : ws.MaxHeaderSize+n]
		if _, err := io.ReadFull(conn, p); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
			h.Masked = false
		}
		switch h.OpCode {
		case ws.OpPong:
			continue
		case ws.OpPing:
			h.OpCode = ws.OpPong
		}
		hs := ws.HeaderSize(h)
		hb := buf[ws.MaxHeaderSize-hs : ws.MaxHeaderSize]
		if err := ws.WriteHeaderBuffer(sliceWriter(hb), h, scratch[:]); err != nil {
			return
		}
		if _, err := conn.Write(buf[ws.MaxHeaderSize-hs : ws.MaxHeaderSize+n]); err != nil {
			return
		}
		if h.OpCode == ws.OpClose {
			return
		}
	}
}

// sliceWriter writes into a slice of exactly the right length.
type sliceWriter []byte

func (s sliceWriter) Write(p []byte) (int, error) { return copy(s, p), nil }
