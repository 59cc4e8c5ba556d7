package wsflate

import (
	"errors"
	"fmt"
	"io"

	inf "github.com/starling-ws/starling/internal/inflate" // "inflate" is a test helper here
)

// ErrTooLarge is returned by Decompressor.Read when a message inflates to
// more bytes than the limit given to Reset. The Conn closes with 1009
// (RFC 6455 section 7.4.1).
var ErrTooLarge = errors.New("wsflate: decompressed message exceeds the read limit")

// Decompressor inflates the messages one side receives, one message at a
// time: Reset with the message's payload stream, then Read to io.EOF. It
// accepts any window size (RFC 7692 section 7.1.2).
//
// It inflates with an internal/inflate Reader, which takes its tables and read
// buffer from a pool for each message and returns them at the end of it.
// With context takeover the Reader keeps its 32 KiB window, which is also
// the history the next message may refer to: about 33 KB per connection,
// measured (see the package documentation); without it the window is
// pooled too, and about 100 B stay between messages.
//
// With context takeover every message must be read to io.EOF before the
// next Reset: the history is what was inflated, so a skipped tail would
// make later messages inflate wrongly; a Reset mid-message drops the
// history, and later references into it fail as corrupt.
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	r     *inf.Reader
	limit int64 // negative: none
	n     int64 // bytes returned for the current message
	err   error // sticky for the current message
	reset bool  // Reset has been called
	probe [1]byte
}

// NewDecompressor returns a Decompressor for one connection;
// noContextTakeover is the peer's setting, from Params.In.
func NewDecompressor(noContextTakeover bool) *Decompressor {
	return &Decompressor{r: inf.NewReader(!noContextTakeover)}
}

// Reset starts a new message read from src, the message's payload as sent
// (without the 00 00 ff ff tail, which the inflater restores, RFC 7692
// section 7.2.2). Read then returns at most limit bytes: past them it
// fails with ErrTooLarge. A negative limit means no limit.
func (d *Decompressor) Reset(src io.Reader, limit int64) {
	d.r.Reset(src)
	d.limit, d.n, d.err, d.reset = limit, 0, nil, true
}

// Read reads inflated bytes of the current message. It returns io.EOF at
// the end of the message, ErrTooLarge past the limit, and the payload
// reader's error or a flate.CorruptInputError otherwise. At io.EOF the
// payload has been read to its end: after a BFINAL block (RFC 7692 section
// 7.2.3.4) only the 0x00 that section 7.2.1 leaves may follow, and other
// bytes are a flate.CorruptInputError.
func (d *Decompressor) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if !d.reset {
		return 0, errors.New("wsflate: Decompressor used before Reset")
	}
	if d.limit >= 0 {
		if d.n >= d.limit {
			return d.probeLimit()
		}
		if rem := d.limit - d.n; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := d.r.Read(p)
	d.n += int64(n)
	if err != nil {
		d.end(err)
	}
	return n, d.err
}

// probeLimit checks, at the limit, whether the message has more bytes.
func (d *Decompressor) probeLimit() (int, error) {
	n, err := io.ReadFull(d.r, d.probe[:])
	if n > 0 {
		err = ErrTooLarge
	}
	d.end(err)
	return 0, d.err
}

// end records the outcome of the current message. The Reader has given
// its pooled buffers back, and dropped the history after an error, unless
// the message stopped at the limit: then the rest of it is never read, so
// the history is dropped here.
func (d *Decompressor) end(err error) {
	switch {
	case err == io.EOF:
		d.err = err
	case errors.Is(err, ErrTooLarge):
		d.err = err
		d.r.Discard()
	case err == io.ErrUnexpectedEOF:
		d.err = fmt.Errorf("wsflate: compressed message truncated: %w", err)
	default:
		d.err = err
	}
}

// Close releases the Decompressor's buffers and history. It may be used
// again afterwards, starting with an empty window.
func (d *Decompressor) Close() {
	d.r.Close()
}
