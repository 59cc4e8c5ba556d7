package wsflate

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
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
// With context takeover the flate.Writer, and so the LZ77 window, lives as
// long as the Compressor, and later messages may refer to earlier ones.
// Without it the flate.Writer is taken from a pool for each message and
// returned by Finish, so an idle connection holds none.
//
// compress/flate always uses a 32 KiB window, so a window of b < 15 bits
// (RFC 7692 section 7.1.2) is honoured by restarting the DEFLATE stream,
// after a sync flush, every 2^b bytes of input: a back-reference can then
// only point inside the current 2^b-byte chunk, so it never reaches further
// back than the window. These restarts use flate.BestSpeed, whose reset is
// cheap (the other levels clear 640 KB of hash tables on each reset). The
// restarts also mean no context is kept between messages, so the writer is
// pooled. On 1 KiB JSON messages this compresses as well as a full window
// from 10 bits up (ratio 0.36) and like Huffman coding alone at 8 (0.60).
//
// With context takeover and a 15-bit window a Compressor keeps about 1.2 MB
// (flate.BestSpeed) or 0.8 MB (DefaultCompression) per connection;
// otherwise under 100 B between messages (see the package documentation).
//
// With context takeover and LimitHistory, a Compressor keeps only the last
// bytes it compressed instead of a flate.Writer. Each message borrows a
// pooled writer and first compresses that history into it, discarding the
// output: the message's back-references can then reach the history, which
// the peer's window holds as its most recent bytes. Memory falls to the
// history's size; the CPU of compressing it is paid on every message.
//
// A message sent without compression (RSV1 clear, RFC 7692 section 6)
// must not pass through the Compressor. Both sides' windows then hold only
// compressed messages, so compression can be switched per message even
// with context takeover. Likewise only messages with RSV1 set go through
// the peer's Decompressor.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	level     int
	noContext bool
	chunk     int           // > 0: restart the stream every chunk bytes of input
	inChunk   int           // input bytes since the last restart
	fw        *flate.Writer // nil between messages without context takeover
	tail      tailWriter
	app       appendWriter

	history int    // > 0: takeover through a history of this many bytes
	hist    []byte // the last bytes compressed, at most history of them
}

// NewCompressor returns a Compressor for one connection. level is a
// compress/flate level; windowBits (8..15, 0 meaning 15) is the negotiated
// window our side compresses with, from Params.Out.
func NewCompressor(level int, noContextTakeover bool, windowBits int) (*Compressor, error) {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, fmt.Errorf("wsflate: invalid compression level %d", level)
	}
	c := &Compressor{level: level, noContext: noContextTakeover}
	switch {
	case level == flate.NoCompression || level == flate.HuffmanOnly:
		// No back-references at all: any window, and no context to keep.
		c.noContext = true
	case windowOrMax(windowBits) < MaxWindowBits:
		c.level, c.chunk, c.noContext = flate.BestSpeed, 1<<windowOrMax(windowBits), true
	}
	return c, nil
}

// LimitHistory makes a Compressor with context takeover keep only the last
// n bytes it compressed (at most the window), and no flate.Writer, between
// messages. It must be called before the first message; n <= 0, or a
// Compressor without context takeover, keeps the default.
func (c *Compressor) LimitHistory(n int) {
	if c.noContext || n <= 0 {
		return
	}
	c.history = min(n, 1<<MaxWindowBits)
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
	if c.fw == nil {
		c.fw = c.getWriter()
	}
	if c.chunk > 0 {
		return c.writeChunked(p)
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

// writeChunked writes p restarting the stream every c.chunk input bytes, so
// that no back-reference reaches outside a window of that size. A restart
// happens only when more input follows, so a message never ends with one.
func (c *Compressor) writeChunked(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if c.inChunk == c.chunk {
			if err := c.fw.Flush(); err != nil {
				return n, err
			}
			c.fw.Reset(&c.tail)
			c.inChunk = 0
		}
		k := min(len(p), c.chunk-c.inChunk)
		m, err := c.fw.Write(p[:k])
		n += m
		c.inChunk += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// Finish ends the current message: it sync-flushes the compressor and
// drops the flush's trailing 00 00 ff ff (RFC 7692 section 7.2.1). An empty
// message becomes the single byte 0x00.
func (c *Compressor) Finish() error {
	if c.tail.w == nil {
		return errNoDestination
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

// Append appends msg compressed as one message to dst.
func (c *Compressor) Append(dst, msg []byte) []byte {
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

// Close releases the Compressor's flate.Writer to the pool. The Compressor
// may be used again afterwards, starting with an empty window.
func (c *Compressor) Close() {
	c.putWriter()
	c.tail.w = nil
	c.hist = c.hist[:0]
}

func (c *Compressor) getWriter() *flate.Writer {
	c.inChunk = 0
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
