package starling

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/starling-ws/starling/internal/wsflate"
)

// CompressionMode selects permessage-deflate (RFC 7692).
type CompressionMode int

const (
	// CompressionDisabled neither offers nor accepts compression. It is the
	// default: compression costs CPU and memory, and mixing secrets with
	// attacker-chosen data in one compressed stream can leak them (the
	// CRIME and BREACH attacks).
	CompressionDisabled CompressionMode = iota

	// CompressionContextTakeover compresses with a window kept across
	// messages, which compresses chatty traffic best. It costs memory: a
	// connection keeps its compression window once it has sent a
	// compressed message and its decompression window once it has read
	// one, about 84 KB in all at the default level (flate.BestSpeed), of
	// which about 33 KB is for reading; the other levels keep a
	// compress/flate writer of about 0.8 MB instead (measured: go test -v
	// -run Memory ./internal/wsflate/). CompressionOptions.History and
	// the window bits trade some of that memory for compression.
	CompressionContextTakeover

	// CompressionNoContextTakeover compresses each message on its own and
	// asks the peer to do the same, so the compressors and decompressors
	// take their buffers from pools for each message and an idle
	// connection holds under 400 bytes for compression. A message in
	// flight borrows about 175 KB to write at flate.BestSpeed (0.8 MB for
	// a compress/flate writer at the other levels) and 55 KB to read.
	CompressionNoContextTakeover
)

// DefaultCompressionThreshold is the size below which messages are sent
// uncompressed: deflate's framing costs more than it saves on them.
const DefaultCompressionThreshold = 128

// defaultCompressionLevel favours speed: WebSocket messages are small and
// latency-bound.
const defaultCompressionLevel = flate.BestSpeed

// CompressionOptions configures permessage-deflate. The zero value disables
// it.
type CompressionOptions struct {
	// Mode turns compression on. Default: CompressionDisabled.
	Mode CompressionMode

	// Level is the compress/flate level, from flate.HuffmanOnly (-2) to
	// flate.BestCompression (9). Default (0): flate.BestSpeed, which
	// Starling's own encoder implements, faster and in far less memory
	// than compress/flate; the other levels use compress/flate. Dial and
	// Accept refuse a level or window bits out of range, and a negative
	// History.
	Level int

	// Threshold is the size below which a message goes out uncompressed.
	// Default (0): DefaultCompressionThreshold. Negative: compress all.
	Threshold int

	// ServerMaxWindowBits and ClientMaxWindowBits (8–15) limit the LZ77
	// window of the server's and the client's compressor (RFC 7692 section
	// 7.1.2). Default (0): 15. Starling's encoder honours any window
	// exactly and keeps less memory for a smaller one; compress/flate
	// cannot, so under 15 bits Level is ignored and flate.BestSpeed used.
	ServerMaxWindowBits, ClientMaxWindowBits int

	// History, with CompressionContextTakeover, makes a connection keep
	// only the last History bytes it compressed between messages; 32 KiB
	// or more keeps the whole window. At flate.BestSpeed this is simply a
	// smaller window: on 256 B JSON messages a 4 KiB history keeps 18 KB
	// instead of 51 KB for a ratio of 0.317 instead of 0.306, at the same
	// CPU. At the compress/flate levels it keeps those bytes instead of a
	// whole writer (0.8 MB): each compressed message borrows a pooled
	// writer and first compresses the history into it, discarding the
	// output, which on 256 B messages costs 8× the CPU of keeping the
	// writer (go test -bench CompressHistory ./internal/wsflate/).
	// Default (0): the whole window.
	History int
}

// check refuses options that cannot be honoured, so that a mistake shows
// when the connection opens rather than at its first compressed message.
func (o *CompressionOptions) check() error {
	if o.Mode == CompressionDisabled {
		return nil
	}
	if o.Level < flate.HuffmanOnly || o.Level > flate.BestCompression {
		return fmt.Errorf("compression level %d is not between %d and %d", o.Level, flate.HuffmanOnly, flate.BestCompression)
	}
	for _, b := range []int{o.ServerMaxWindowBits, o.ClientMaxWindowBits} {
		if b != 0 && (b < 8 || b > 15) {
			// RFC 7692 section 7.1.2: window bits are 8 to 15.
			return fmt.Errorf("window bits %d are not between 8 and 15", b)
		}
	}
	if o.History < 0 {
		return fmt.Errorf("history of %d bytes is negative", o.History)
	}
	return nil
}

// config returns the negotiation config for these options.
func (o *CompressionOptions) config() wsflate.Config {
	noContext := o.Mode == CompressionNoContextTakeover
	return wsflate.Config{
		ServerNoContextTakeover: noContext,
		ClientNoContextTakeover: noContext,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

// extensions records what the handshake negotiated: permessage-deflate,
// the only extension there is.
type extensions struct {
	params    wsflate.Params
	level     int
	threshold int
	history   int
	comp      *wsflate.Compressor   // made on the first compressed message
	decomp    *wsflate.Decompressor // made on the first compressed message
}

// newExtensions returns the extension state for negotiated params.
func newExtensions(o *CompressionOptions, p wsflate.Params) *extensions {
	e := &extensions{params: p, level: o.Level, threshold: o.Threshold, history: o.History}
	if e.level == 0 {
		e.level = defaultCompressionLevel
	}
	if e.threshold == 0 {
		e.threshold = DefaultCompressionThreshold
	}
	return e
}

// acceptExtensions negotiates permessage-deflate for a server (RFC 7692
// section 5). A malformed header declines the extension rather than the
// connection, as section 5 allows.
func acceptExtensions(h http.Header, o *CompressionOptions) (*extensions, string) {
	if o.Mode == CompressionDisabled {
		return nil, ""
	}
	offers, err := wsflate.ParseHeader(h.Values(headerExtensions))
	if err != nil {
		return nil, ""
	}
	p, response, ok := wsflate.Negotiate(offers, o.config())
	if !ok {
		return nil, ""
	}
	return newExtensions(o, p), response
}

// dialExtensions checks the server's answer to our offer; an invalid one
// fails the dial (RFC 7692 section 7.1).
func dialExtensions(h http.Header, o *CompressionOptions) (*extensions, error) {
	values := h.Values(headerExtensions)
	if o.Mode == CompressionDisabled {
		// Only an extension named fails the dial (RFC 6455 section 4.1):
		// an empty header, or empty list elements, name none (RFC 7230
		// section 7), as ParseResponse also finds when we offered one.
		offers, err := wsflate.ParseHeader(values)
		if err != nil {
			return nil, fmt.Errorf("starling: invalid handshake response: %w", err)
		}
		if len(offers) > 0 {
			return nil, fmt.Errorf("starling: invalid handshake response: server chose extension %q, which was not offered", offers[0].Name)
		}
		return nil, nil
	}
	p, ok, err := wsflate.ParseResponse(values, o.config())
	if err != nil {
		return nil, fmt.Errorf("starling: invalid handshake response: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return newExtensions(o, p), nil
}

// shouldCompress reports whether a message of n bytes goes out compressed.
func (c *Conn) shouldCompress(n int) bool {
	return c.ext != nil && !c.flags.has(flagNoCompress) && n >= c.ext.threshold
}

// SetCompression turns compression of outgoing messages on or off for this
// connection, when permessage-deflate was negotiated. Turning it off for a
// message does not disturb the shared window of context takeover: that
// message simply stays out of it. Use it for data already compressed, or
// for secrets that must not share a compression context with
// attacker-chosen text.
func (c *Conn) SetCompression(on bool) { c.flags.set(flagNoCompress, !on) }

// compressor returns the connection's compressor, made on first use.
func (c *Conn) compressor() (*wsflate.Compressor, error) {
	if c.ext.comp == nil {
		noContext, bits := c.ext.params.Out(!c.client)
		comp, err := wsflate.NewCompressor(c.ext.level, noContext, bits)
		if err != nil {
			return nil, err
		}
		comp.LimitHistory(c.ext.history)
		c.ext.comp = comp
	}
	return c.ext.comp, nil
}

// inflate reads the current compressed message, decompressed (RFC 7692
// section 7.2.2). The read limit counts decompressed bytes, and the
// decompressor never inflates past it.
func (c *Conn) inflate(p []byte) (int, error) {
	if !c.rs.inflating {
		if c.ext.decomp == nil {
			noContext, _ := c.ext.params.In(!c.client)
			c.ext.decomp = wsflate.NewDecompressor(noContext)
		}
		c.ext.decomp.Reset((*payloadReader)(c), c.readLimit.Load())
		c.rs.inflating = true
	}
	n, err := c.ext.decomp.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		// The decompressor has read the payload to its end.
		c.rs.inflating = false
		return n, io.EOF
	case errors.Is(err, wsflate.ErrTooLarge):
		return n, c.fail(&failure{ce: CloseError{Code: StatusMessageTooBig, Reason: fmt.Sprintf("message exceeds %d bytes", c.readLimit.Load())}, err: ErrMessageTooBig})
	case c.isClosed():
		return n, err
	}
	var corrupt flate.CorruptInputError
	if errors.As(err, &corrupt) {
		return n, c.fail(protocolError(StatusInvalidFramePayload, "compressed data is corrupt"))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The message's last frame came and the DEFLATE data stopped
		// short of a block end: invalid data, like corrupt data (a
		// connection lost mid-message was handled above, as closed).
		return n, c.fail(protocolError(StatusInvalidFramePayload, "compressed data is truncated"))
	}
	return n, err
}

// deflateSink receives a compressed message's bytes and sends them as
// fragments through the message writer.
type deflateSink struct{ w *messageWriter }

func (s deflateSink) Write(p []byte) (int, error) { return s.w.writeRaw(p) }
