package broadcast

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

func init() {
	register("coder", implementation{serve: serveCoder, prepare: prepareCoder})
}

// serveCoder accepts with compression without context takeover when asked
// and lets CloseRead handle the peer's control frames.
func serveCoder(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	if compress {
		opts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	return serveHTTP(ctx, ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		c.CloseRead(context.Background())
		add(c)
	})
}

// coderMessage is a plain Write per connection: coder/websocket has no
// prepared message, so with compression each connection compresses the
// message again.
type coderMessage struct{ data []byte }

func prepareCoder(data []byte) (message, error) { return coderMessage{data}, nil }

func (m coderMessage) writeTo(ctx context.Context, c any) error {
	cc, ok := c.(*websocket.Conn)
	if !ok {
		return errUnexpected
	}
	return cc.Write(ctx, websocket.MessageText, m.data)
}

func (coderMessage) release() {}
