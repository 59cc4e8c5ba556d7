package broadcast

import (
	"context"
	"net"
	"net/http"

	"github.com/starling-ws/starling"
)

func init() {
	register("starling", implementation{serve: serveStarling, prepare: prepareStarling})
}

// serveStarling accepts with compression without context takeover when
// asked (a prepared message is compressed with a fresh window anyway) and
// lets CloseRead handle the peer's control frames.
func serveStarling(ctx context.Context, ln net.Listener, compress bool, add func(any)) error {
	opts := &starling.AcceptOptions{InsecureSkipOriginCheck: true}
	if compress {
		opts.Compression.Mode = starling.CompressionNoContextTakeover
	}
	return serveHTTP(ctx, ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		c.CloseRead(context.Background())
		add(c)
	})
}

// starlingMessage is Starling's broadcast idiom: a PreparedMessage frames
// (and compresses) the message once, WritePrepared writes those bytes.
type starlingMessage struct{ pm *starling.PreparedMessage }

func prepareStarling(data []byte) (message, error) {
	pm, err := starling.NewPreparedMessage(starling.MessageText, data)
	return starlingMessage{pm}, err
}

func (m starlingMessage) writeTo(ctx context.Context, c any) error {
	sc, ok := c.(*starling.Conn)
	if !ok {
		return errUnexpected
	}
	return sc.WritePrepared(ctx, m.pm)
}

func (starlingMessage) release() {}
