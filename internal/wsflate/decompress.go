package wsflate

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrTooLarge is returned by Decompressor.Read when a message inflates to
// more bytes than the limit given to Reset. The Conn closes with 1009
// (RFC 6455 section 7.4.1).
var ErrTooLarge = errors.New("wsflate: decompressed message exceeds the read limit")

// inflater is a flate reader together with the source it reads from; the
// pair is pooled, since the reader keeps a pointer to the source.
type inflater struct {
	fr  io.ReadCloser // implements flate.Resetter
	src messageSource
}

var inflaterPool sync.Pool

func getInflater() *inflater {
	if in, ok := inflaterPool.Get().(*inflater); ok {
		return in
	}
	in := new(inflater)
	in.fr = flate.NewReader(&in.src)
	return in
}

// Decompressor inflates the messages one side receives, one message at a
// time: Reset with the message's payload stream, then Read to io.EOF. It
// accepts any window size (RFC 7692 section 7.1.2).
//
// Its flate reader is taken from a pool for each message and returned at
// the end of it. With context takeover the Decompressor also keeps a copy
// of the last 32 KiB of output, which becomes the dictionary of the next
// message: about 33 KB per connection, measured (see the package
// documentation); without it, under 100 B between messages.
//
// With context takeover every message must be read to io.EOF before the
// next Reset: the history is what was read, so a skipped tail would make
// later messages inflate wrongly.
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	noContext bool
	in        *inflater
	win       window // history, with context takeover only
	limit     int64  // negative: none
	n         int64  // bytes returned for the current message
	err       error  // sticky for the current message
	probe     [1]byte
}

// NewDecompressor returns a Decompressor for one connection;
// noContextTakeover is the peer's setting, from Params.In.
func NewDecompressor(noContextTakeover bool) *Decompressor {
	return &Decompressor{noContext: noContextTakeover}
}

// Reset starts a new message read from src, the message's payload as sent
// (without the 00 00 ff ff tail, which Reset's reader adds, RFC 7692 section
// 7.2.2). Read then returns at most limit bytes: past them it fails with
// ErrTooLarge. A negative limit means no limit.
func (d *Decompressor) Reset(src io.Reader, limit int64) {
	if d.in == nil {
		d.in = getInflater()
	}
	d.in.src.reset(src)
	var dict []byte
	if !d.noContext {
		dict = d.win.bytes()
	}
	d.in.fr.(flate.Resetter).Reset(&d.in.src, dict)
	d.limit, d.n, d.err = limit, 0, nil
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
	if d.in == nil {
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
	n, err := d.in.fr.Read(p)
	d.n += int64(n)
	if !d.noContext {
		d.win.write(p[:n])
	}
	if err != nil {
		d.end(err)
	}
	return n, d.err
}

// probeLimit checks, at the limit, whether the message has more bytes.
func (d *Decompressor) probeLimit() (int, error) {
	n, err := io.ReadFull(d.in.fr, d.probe[:])
	if n > 0 {
		err = ErrTooLarge
	}
	d.end(err)
	return 0, d.err
}

// end records the outcome of the current message and returns the
// inflater to the pool.
func (d *Decompressor) end(err error) {
	if err == io.EOF {
		if derr := d.in.src.drainAfterFinal(); derr != nil {
			err = derr
		}
	}
	switch {
	case err == io.EOF, errors.Is(err, ErrTooLarge):
		d.err = err
	case err == io.ErrUnexpectedEOF:
		d.err = fmt.Errorf("wsflate: compressed message truncated: %w", err)
	default:
		d.err = err
	}
	if d.err != io.EOF {
		// After an error the stream is unusable, so the history is too.
		d.win.pos, d.win.full = 0, false
	}
	// The next message restarts the reader from the history anyway, so
	// the reader itself is pooled even with context takeover.
	d.release()
}

// Close releases the Decompressor's flate reader and history. It may be
// used again afterwards, starting with an empty window.
func (d *Decompressor) Close() {
	d.release()
	d.win = window{}
}

func (d *Decompressor) release() {
	if d.in != nil {
		d.in.src.src = nil
		inflaterPool.Put(d.in)
		d.in = nil
	}
}
