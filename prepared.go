package starling

import (
	"context"
	"sync"

	"github.com/starling-ws/starling/internal/frame"
	"github.com/starling-ws/starling/internal/utf8v"
	"github.com/starling-ws/starling/internal/wsflate"
)

// PreparedMessage is a message encoded once for many connections, for
// broadcast: a server writes the same frame bytes to every connection, and
// compresses the message once rather than once per connection. It is safe
// for concurrent use.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu     sync.Mutex
	plain  []byte // the unmasked, uncompressed frame
	zipped []byte // the unmasked, compressed frame, made on first need
}

// NewPreparedMessage prepares data as a message of type typ. The message
// keeps data; the caller must not change it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if err := checkType(typ); err != nil {
		return nil, err
	}
	if typ == MessageText && !utf8v.Valid(data) {
		return nil, ErrInvalidUTF8
	}
	return &PreparedMessage{typ: typ, data: data}, nil
}

// frame returns the encoded frame, compressed or not, encoding it on first
// use.
func (pm *PreparedMessage) frame(compressed bool) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if !compressed {
		if pm.plain == nil {
			pm.plain = preparedFrame(pm.typ, false, pm.data)
		}
		return pm.plain, nil
	}
	if pm.zipped == nil {
		// A fresh window: no connection's history is referenced, so any
		// peer can inflate it whatever its context takeover.
		comp, err := wsflate.NewCompressor(defaultCompressionLevel, true, wsflate.MaxWindowBits)
		if err != nil {
			return nil, err
		}
		pm.zipped = preparedFrame(pm.typ, true, comp.Append(nil, pm.data))
	}
	return pm.zipped, nil
}

// preparedFrame returns a whole unmasked frame carrying payload.
func preparedFrame(typ MessageType, rsv1 bool, payload []byte) []byte {
	h := frame.Header{Fin: true, Rsv1: rsv1, Opcode: frame.Opcode(typ), Length: int64(len(payload))}
	b := make([]byte, h.Size()+len(payload))
	n := frame.Encode(b, &h)
	copy(b[n:], payload)
	return b
}

// WritePrepared writes pm as one message. A server writes the prepared frame
// as it is; a client, which must mask each frame with a fresh key, encodes
// it as Write does.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	if c.client {
		return c.Write(ctx, pm.typ, pm.data)
	}
	compressed := c.shouldCompress(len(pm.data))
	b, err := pm.frame(compressed)
	if err != nil {
		return err
	}
	if err := c.msgMu.lock(ctx, c); err != nil {
		return c.lockError(err)
	}
	defer c.msgMu.unlock()
	if compressed && c.ext != nil && c.ext.comp != nil {
		// The peer's window now holds this message, which our compressor
		// never saw: continue from an empty window, which is always safe.
		c.ext.comp.Close()
	}
	if err := c.writeRaw(ctx, b); err != nil {
		return err
	}
	c.stats.messagesWritten.Add(1)
	return nil
}
