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
// compresses the message once rather than once per connection (once per
// server_max_window_bits the connections negotiated). It is safe for
// concurrent use.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu    sync.Mutex
	plain []byte // the unmasked, uncompressed frame
	// zipped holds the unmasked, compressed frames by the window they
	// were compressed within, each made on first need.
	zipped [wsflate.MaxWindowBits + 1][]byte
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

// frame returns the encoded frame, uncompressed if windowBits is 0 and
// otherwise compressed within a window of 2^windowBits bytes, encoding it
// on first use. Each connection gets the frame of the window it
// negotiated: its peer may have only that much window to inflate with
// (RFC 7692 section 7.1.2.1).
func (pm *PreparedMessage) frame(windowBits int) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if windowBits == 0 {
		if pm.plain == nil {
			pm.plain = preparedFrame(pm.typ, false, pm.data)
		}
		return pm.plain, nil
	}
	if pm.zipped[windowBits] == nil {
		// A fresh window: no connection's history is referenced, so any
		// peer can inflate it whatever its context takeover.
		comp, err := wsflate.NewCompressor(defaultCompressionLevel, true, windowBits)
		if err != nil {
			return nil, err
		}
		pm.zipped[windowBits] = preparedFrame(pm.typ, true, comp.Append(nil, pm.data))
	}
	return pm.zipped[windowBits], nil
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
	windowBits := 0
	if compressed {
		_, windowBits = c.ext.params.Out(true)
	}
	b, err := pm.frame(windowBits)
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
