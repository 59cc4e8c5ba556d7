package peer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Gorilla is github.com/gorilla/websocket as a peer.
type Gorilla struct{ inproc }

// fragmentBuffer is the write buffer size for ModeFragments: gorilla
// sends a frame each time its buffer fills, so a tiny buffer makes a short
// message span several frames, and the split falls inside a multi-byte rune.
const fragmentBuffer = 3

// NewGorilla starts a gorilla/websocket server and returns the peer; with
// t, it speaks wss.
func NewGorilla(t *TLS) *Gorilla {
	g := &Gorilla{inproc{name: "gorilla", tls: t}}
	g.start(func(w http.ResponseWriter, r *http.Request, mode, id string) {
		u := websocket.Upgrader{Subprotocols: []string{Subprotocol}, EnableCompression: true}
		if mode == ModeFragments {
			u.WriteBufferSize = fragmentBuffer
		}
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			g.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
		g.run(c, mode, id, r.Header.Get(HeaderName), "")
	})
	return g
}

// Connect implements Peer.
func (g *Gorilla) Connect(ctx context.Context, url, mode, id string) error {
	g.goConnect(id, func() error {
		d := websocket.Dialer{Subprotocols: Offered, HandshakeTimeout: 10 * time.Second, EnableCompression: true, TLSClientConfig: g.clientConfig()}
		if mode == ModeFragments {
			d.WriteBufferSize = fragmentBuffer
		}
		c, resp, err := d.Dial(url, http.Header{HeaderName: {id}})
		if err != nil {
			return err
		}
		g.run(c, mode, id, "", resp.Header.Get("Sec-WebSocket-Extensions"))
		return nil
	})
	return nil
}

func (g *Gorilla) run(c *websocket.Conn, mode, id, header, extensions string) {
	defer c.Close()
	c.SetReadLimit(ReadLimit)
	c.SetPongHandler(func(s string) error {
		g.hub.Post(Event{ID: id, Kind: EventPong, Data: s})
		return nil
	})
	g.hub.Post(Event{ID: id, Kind: EventOpen, Subprotocol: c.Subprotocol(), Header: header, Extensions: extensions})
	deadline := time.Now().Add(10 * time.Second)
	switch mode {
	case ModeDrop:
		c.NetConn().Close()
		return
	case ModeClose:
		msg := websocket.FormatCloseMessage(CloseCode, CloseReason)
		if err := c.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
			g.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
	case ModePing:
		if err := c.WriteControl(websocket.PingMessage, []byte(PingPayload), deadline); err != nil {
			g.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
	case ModeFragments:
		if err := gorillaFragments(c); err != nil {
			g.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
	}
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			g.hub.Post(gorillaCloseEvent(id, err))
			return
		}
		if err := c.WriteMessage(typ, p); err != nil {
			g.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
	}
}

// gorillaFragments sends FragmentedText and FragmentedBinaryJoined through
// NextWriter; with fragmentBuffer they leave as frames of 3 bytes.
func gorillaFragments(c *websocket.Conn) error {
	for _, m := range []struct {
		typ int
		p   []byte
	}{{websocket.TextMessage, []byte(FragmentedText)}, {websocket.BinaryMessage, FragmentedBinaryJoined}} {
		w, err := c.NextWriter(m.typ)
		if err != nil {
			return err
		}
		if _, err := w.Write(m.p); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

// gorillaCloseEvent reports how a connection ended: gorilla returns a
// *CloseError for a close frame and for a dropped connection (1006).
func gorillaCloseEvent(id string, err error) Event {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return Event{ID: id, Kind: EventClose, Code: ce.Code, Reason: ce.Text}
	}
	return Event{ID: id, Kind: EventClose, Code: 1006, Reason: err.Error()}
}
