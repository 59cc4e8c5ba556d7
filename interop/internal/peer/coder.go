package peer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Coder is github.com/coder/websocket as a peer.
//
// coder cannot choose a ping's payload: in ModePing it sends its own, and
// reports it in the pong event for the cell to compare with what Starling saw.
type Coder struct{ inproc }

// NewCoder starts a coder/websocket server and returns the peer; with t,
// it speaks wss.
func NewCoder(t *TLS) *Coder {
	p := &Coder{inproc{name: "coder", tls: t}}
	p.start(func(w http.ResponseWriter, r *http.Request, mode, id string) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:    []string{Subprotocol},
			CompressionMode: websocket.CompressionContextTakeover,
			OnPongReceived:  p.onPong(id),
		})
		if err != nil {
			p.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
		p.run(r.Context(), c, mode, id, r.Header.Get(HeaderName), "")
	})
	return p
}

// Connect implements Peer.
func (p *Coder) Connect(ctx context.Context, url, mode, id string) error {
	p.goConnect(id, func() error {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{
			Subprotocols:    Offered,
			HTTPHeader:      http.Header{HeaderName: {id}},
			CompressionMode: websocket.CompressionContextTakeover,
			OnPongReceived:  p.onPong(id),
			HTTPClient:      &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientConfig()}},
		})
		if err != nil {
			return err
		}
		p.run(context.Background(), c, mode, id, "", resp.Header.Get("Sec-WebSocket-Extensions"))
		return nil
	})
	return nil
}

func (p *Coder) onPong(id string) func(context.Context, []byte) {
	return func(_ context.Context, b []byte) {
		p.hub.Post(Event{ID: id, Kind: EventPong, Data: string(b)})
	}
}

func (p *Coder) run(ctx context.Context, c *websocket.Conn, mode, id, header, extensions string) {
	defer c.CloseNow()
	c.SetReadLimit(ReadLimit)
	p.hub.Post(Event{ID: id, Kind: EventOpen, Subprotocol: c.Subprotocol(), Header: header, Extensions: extensions})
	var err error
	switch mode {
	case ModeDrop:
		c.CloseNow()
		return
	case ModeClose:
		// Close returns nil only when the peer's close frame carries the
		// same code (coder does not expose the reason it got back).
		if err := c.Close(CloseCode, CloseReason); err != nil {
			p.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			return
		}
		p.hub.Post(Event{ID: id, Kind: EventClose, Code: CloseCode})
		return
	case ModePing:
		// Ping needs a concurrent reader to see the pong: the echo loop.
		go func() {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := c.Ping(pctx); err != nil {
				p.hub.Post(Event{ID: id, Kind: EventError, Reason: err.Error()})
			}
		}()
	case ModeFragments:
		err = coderFragments(ctx, c)
	}
	if err == nil {
		err = coderEcho(ctx, c)
	}
	p.hub.Post(coderCloseEvent(id, err))
}

// coderFragments sends FragmentedText and FragmentedBinaryJoined through
// Writer, one frame per Write; the text is split inside "β".
func coderFragments(ctx context.Context, c *websocket.Conn) error {
	text := []byte(FragmentedText)
	for _, m := range []struct {
		typ   websocket.MessageType
		parts [][]byte
	}{
		{websocket.MessageText, [][]byte{text[:3], text[3:13], text[13:]}},
		{websocket.MessageBinary, FragmentedBinaryParts},
	} {
		w, err := c.Writer(ctx, m.typ)
		if err != nil {
			return err
		}
		for _, part := range m.parts {
			if _, err := w.Write(part); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

func coderEcho(ctx context.Context, c *websocket.Conn) error {
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.Write(ctx, typ, b); err != nil {
			return err
		}
	}
}

// coderCloseEvent reports how a connection ended. coder reports a dropped
// connection as an error with no close status; that is reported as 1006,
// with the error as reason.
func coderCloseEvent(id string, err error) Event {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return Event{ID: id, Kind: EventClose, Code: int(ce.Code), Reason: ce.Reason}
	}
	return Event{ID: id, Kind: EventClose, Code: 1006, Reason: err.Error()}
}
