package broadcast

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
)

// deflateTail ends a permessage-deflate payload: the empty stored block
// the sender removed (RFC 7692 section 7.2.2), then a final empty block
// so that the reader stops with io.EOF.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflater decompresses one message at a time; they are pooled because a
// flate reader holds a 32 KiB window, too much for each of 10,000
// connections, and messages without context takeover need no history.
type inflater struct {
	in  bytes.Reader
	out bytes.Buffer
	fr  io.ReadCloser
}

var inflaters = sync.Pool{New: func() any {
	f := new(inflater)
	f.fr = flate.NewReader(&f.in)
	return f
}}

// inflatesTo reports whether p, a permessage-deflate payload, inflates to
// want.
func inflatesTo(want, p []byte) bool {
	f := inflaters.Get().(*inflater)
	defer inflaters.Put(f)
	f.in.Reset(append(p, deflateTail...))
	f.out.Reset()
	if err := f.fr.(flate.Resetter).Reset(&f.in, nil); err != nil {
		return false
	}
	if _, err := f.out.ReadFrom(f.fr); err != nil {
		return false
	}
	return bytes.Equal(want, f.out.Bytes())
}
