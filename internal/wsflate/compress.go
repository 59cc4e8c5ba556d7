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
// compress/flate always uses a 32 KiB window, so a window smaller than 15
// bits is honoured with flate.HuffmanOnly: it emits no back-references at
// all, so it stays inside any window (RFC 7692 section 7.1.2), at the cost
// of compressing only by symbol frequencies.
//
// With context takeover a Compressor keeps about 1.2 MB (flate.BestSpeed)
// or 0.8 MB (DefaultCompression) per connection; without it, or with a
// window under 15 bits, under 100 B between messages (see the package
// documentation).
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	level     int
	noContext bool
	fw        *flate.Writer // nil between messages without context takeover
	tail      tailWriter
	app       appendWriter
}

// NewCompressor returns a Compressor for one connection. level is a
// compress/flate level; windowBits (8..15, 0 meaning 15) is the negotiated
// window our side compresses with, from Params.Out.
func NewCompressor(level int, noContextTakeover bool, windowBits int) (*Compressor, error) {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, fmt.Errorf("wsflate: invalid compression level %d", level)
	}
	if windowOrMax(windowBits) < MaxWindowBits {
		level = flate.HuffmanOnly
	}
	// Huffman-only output never refers to earlier bytes, so there is no
	// context to keep and the writer can be pooled either way.
	noContext := noContextTakeover || level == flate.HuffmanOnly
	return &Compressor{level: level, noContext: noContext}, nil
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
	return c.fw.Write(p)
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
	if c.noContext || err != nil {
		// A failed flush leaves the stream unusable; start afresh next time.
		c.putWriter()
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
}

func (c *Compressor) getWriter() *flate.Writer {
	if fw, ok := writerPools[c.level+2].Get().(*flate.Writer); ok {
		fw.Reset(&c.tail)
		return fw
	}
	fw, _ := flate.NewWriter(&c.tail, c.level) // level checked by NewCompressor
	return fw
}

func (c *Compressor) putWriter() {
	if c.fw != nil {
		writerPools[c.level+2].Put(c.fw)
		c.fw = nil
	}
}
