package wsflate

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/starling-ws/starling/internal/deflate"
)

// errNoDestination reports a Write or Finish without a Reset first.
var errNoDestination = errors.New("wsflate: Compressor used before Reset")

// writerPools holds idle flate.Writers per level (index level+2, since
// flate.HuffmanOnly is -2), shared by all Compressors that keep no context.
var writerPools [flate.BestCompression + 3]sync.Pool

// Compressor compresses the messages one side sends, one message at a
// time: Reset, any number of Writes, Finish. The output of each message is
// a raw DEFLATE stream ended by a sync flush whose trailing 00 00 ff ff is
// dropped (RFC 7692 section 7.2.1).
//
// At flate.BestSpeed, the default, and for any window under 15 bits, a
// Compressor uses internal/deflate, which honours any window exactly and
// keeps only that window and an 8 KiB table with context takeover (about
// 49 KB at 15 bits), nothing without. The other levels use compress/flate,
// whose writer keeps a 32 KiB window and about 0.8 MB of tables: with
// context takeover that writer lives as long as the Compressor; without,
// it is taken from a pool for each message and returned by Finish.
//
// With context takeover, LimitHistory bounds what is kept between
// messages. internal/deflate simply uses the smaller window. For the
// compress/flate levels, the Compressor keeps only the last bytes it
// compressed instead of a writer: each message borrows a pooled writer
// and first compresses that history into it, discarding the output, so
// that the message's back-references can reach the history, which the
// peer's window holds as its most recent bytes. The CPU of compressing
// the history is then paid on every message.
//
// A message sent without compression (RSV1 clear, RFC 7692 section 6)
// must not pass through the Compressor. Both sides' windows then hold only
// compressed messages, so compression can be switched per message even
// with context takeover. Likewise only messages with RSV1 set go through
// the peer's Decompressor.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	enc *deflate.Encoder // the flate.BestSpeed and small-window path

	// The compress/flate path.
	level     int
	noContext bool
	fw        *flate.Writer // nil between messages without context takeover
	tail      tailWriter
	app       appendWriter
	history   int    // > 0: takeover through a history of this many bytes
	hist      []byte // the last bytes compressed, at most history of them
}

// encodeChunk bounds the input given to the Encoder at once, and so the
// output buffer a Write borrows.
const encodeChunk = 32 << 10

// outBuffers holds the buffers that carry the Encoder's output to the
// destination writer while a Write or Finish runs.
var outBuffers = sync.Pool{New: func() any { b := make([]byte, 0, encodeChunk+encodeChunk/8); return &b }}

// NewCompressor returns a Compressor for one connection. level is a
// compress/flate level; windowBits (8..15, 0 meaning 15) is the negotiated
// window our side compresses with, from Params.Out.
func NewCompressor(level int, noContextTakeover bool, windowBits int) (*Compressor, error) {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, fmt.Errorf("wsflate: invalid compression level %d", level)
	}
	c := &Compressor{level: level, noContext: noContextTakeover}
	bits := windowOrMax(windowBits)
	switch {
	case level == flate.NoCompression || level == flate.HuffmanOnly:
		// No back-references at all: any window, and no context to keep.
		c.noContext = true
	case level == flate.BestSpeed || bits < MaxWindowBits:
		// compress/flate always uses a 32 KiB window, too large for
		// these; the Encoder's is exact.
		c.enc = deflate.NewEncoder(1<<bits, !noContextTakeover)
	}
	return c, nil
}

// LimitHistory makes a Compressor with context takeover keep only the last
// n bytes it compressed (at most the window) between messages, and no
// flate.Writer. It must be called before the first message; n <= 0, or a
// Compressor without context takeover, keeps the default.
func (c *Compressor) LimitHistory(n int) {
	switch {
	case c.noContext || n <= 0:
	case c.enc != nil:
		if c.enc.Window() > n {
			c.enc = deflate.NewEncoder(n, true)
		}
	default:
		c.history = min(n, 1<<MaxWindowBits)
	}
}

// Reset starts a new message whose compressed bytes go to w.
func (c *Compressor) Reset(w io.Writer) {
	c.tail.w = w
	c.tail.n = 0
}

// Write compresses p into the current message.
func (c *Compressor) Write(p []byte) (int, error) {
	if c.tail.w == nil {
		return 0, errNoDestination
	}
	if c.enc != nil {
		return c.encode(p, false)
	}
	if c.fw == nil {
		c.fw = c.getWriter()
	}
	n, err := c.fw.Write(p)
	if c.history > 0 {
		c.remember(p[:n])
	}
	return n, err
}

// remember adds p to the history, keeping its last c.history bytes.
func (c *Compressor) remember(p []byte) {
	if c.hist == nil {
		c.hist = make([]byte, 0, c.history)
	}
	if len(p) >= c.history {
		c.hist = append(c.hist[:0], p[len(p)-c.history:]...)
		return
	}
	if over := len(c.hist) + len(p) - c.history; over > 0 {
		c.hist = c.hist[:copy(c.hist, c.hist[over:])]
	}
	c.hist = append(c.hist, p...)
}

// encode compresses p with the Encoder, and ends the message if final,
// writing the output to the destination as it comes. A failed write
// leaves the peer's window unknown, so the Encoder starts afresh.
func (c *Compressor) encode(p []byte, final bool) (int, error) {
	buf := outBuffers.Get().(*[]byte)
	defer outBuffers.Put(buf)
	n := 0
	for {
		k := min(len(p)-n, encodeChunk)
		out := c.enc.Write((*buf)[:0], p[n:n+k])
		n += k
		if final && n == len(p) {
			out = c.enc.Flush(out)
		}
		*buf = out[:0]
		if len(out) > 0 {
			if _, err := c.tail.w.Write(out); err != nil {
				c.enc.Reset()
				return n, err
			}
		}
		if n == len(p) {
			return n, nil
		}
	}
}

// Finish ends the current message: it sync-flushes the compressor and
// drops the flush's trailing 00 00 ff ff (RFC 7692 section 7.2.1). An empty
// message becomes the single byte 0x00.
func (c *Compressor) Finish() error {
	if c.tail.w == nil {
		return errNoDestination
	}
	if c.enc != nil {
		_, err := c.encode(nil, true)
		c.tail.w = nil
		return err
	}
	if c.fw == nil {
		c.fw = c.getWriter()
	}
	err := c.fw.Flush()
	if err == nil && !c.tail.dropSyncTail() {
		err = errors.New("wsflate: flate flush did not end with 00 00 ff ff")
	}
	c.tail.w = nil
	if c.noContext || c.history > 0 || err != nil {
		c.putWriter()
	}
	if err != nil {
		// A failed flush leaves the stream unusable; start afresh next time.
		c.hist = c.hist[:0]
	}
	return err
}

// Append appends msg compressed as one message to dst. At flate.BestSpeed
// it may also write into the spare capacity just past the result, as the
// deflate.Encoder does.
func (c *Compressor) Append(dst, msg []byte) []byte {
	if c.enc != nil {
		return c.enc.Flush(c.enc.Write(dst, msg))
	}
	c.app.buf = dst
	c.Reset(&c.app)
	_, err := c.Write(msg)
	if err == nil {
		err = c.Finish()
	}
	if err != nil {
		// appendWriter cannot fail, so this is a bug in this package.
		panic(err)
	}
	dst, c.app.buf = c.app.buf, nil
	return dst
}

// Close forgets the window and releases the compress/flate writer, if
// any, to the pool. The Compressor may be used again afterwards, starting
// with an empty window.
func (c *Compressor) Close() {
	if c.enc != nil {
		c.enc.Reset()
	}
	c.putWriter()
	c.tail.w = nil
	c.hist = c.hist[:0]
}

func (c *Compressor) getWriter() *flate.Writer {
	var fw *flate.Writer
	if w, ok := writerPools[c.level+2].Get().(*flate.Writer); ok {
		fw = w
		fw.Reset(&c.tail)
	} else {
		fw, _ = flate.NewWriter(&c.tail, c.level) // level checked by NewCompressor
	}
	if len(c.hist) > 0 {
		c.prime(fw)
	}
	return fw
}

// prime compresses the history into fw, a fresh stream, and discards what
// that writes: the sync flush leaves fw at a block boundary, where the
// message's own blocks start, free to refer back into the history.
func (c *Compressor) prime(fw *flate.Writer) {
	w := c.tail.w
	c.tail.w = io.Discard
	_, _ = fw.Write(c.hist) // to io.Discard: cannot fail
	_ = fw.Flush()
	c.tail.dropSyncTail()
	c.tail.w = w
}

func (c *Compressor) putWriter() {
	if c.fw != nil {
		writerPools[c.level+2].Put(c.fw)
		c.fw = nil
	}
}
