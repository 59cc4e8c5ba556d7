package wsflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestLimit(t *testing.T) {
	msg := jsonMessages(1, 5000)[0]
	c, _ := NewCompressor(flate.BestSpeed, true, 15)
	z := c.Append(nil, msg)
	d := NewDecompressor(true)
	for _, tt := range []struct {
		limit int64
		err   error
	}{
		{-1, nil},
		{int64(len(msg)), nil},
		{int64(len(msg)) + 1, nil},
		{int64(len(msg)) - 1, ErrTooLarge},
		{0, ErrTooLarge},
		{1, ErrTooLarge},
	} {
		d.Reset(bytes.NewReader(z), tt.limit)
		got, err := io.ReadAll(d)
		if !errors.Is(err, tt.err) {
			t.Errorf("limit %d: err = %v; want %v", tt.limit, err, tt.err)
		}
		if tt.limit >= 0 && int64(len(got)) > tt.limit {
			t.Errorf("limit %d: returned %d bytes", tt.limit, len(got))
		}
		if !bytes.Equal(got, msg[:len(got)]) {
			t.Errorf("limit %d: returned bytes differ from the message", tt.limit)
		}
		if n2, err2 := d.Read(make([]byte, 10)); n2 != 0 || err != nil && !errors.Is(err2, tt.err) {
			t.Errorf("limit %d: error not sticky: %v then %d, %v", tt.limit, err, n2, err2)
		}
	}
	// An empty message fits a limit of 0.
	d.Reset(bytes.NewReader(emptyStoredMessage), 0)
	if got, err := io.ReadAll(d); err != nil || len(got) != 0 {
		t.Errorf("empty message at limit 0: %q, %v", got, err)
	}
}

// zeroBomb is a compressed stream of n zero bytes, produced lazily so that
// gigabytes of it never exist in memory on either side.
type zeroBomb struct {
	fw      *flate.Writer
	buf     bytes.Buffer
	left    int64
	zeros   []byte
	pulled  int64 // compressed bytes handed out
	flushed bool
}

func newZeroBomb(n int64) *zeroBomb {
	b := &zeroBomb{left: n, zeros: make([]byte, 64<<10)}
	b.fw, _ = flate.NewWriter(&b.buf, flate.BestCompression)
	return b
}

func (b *zeroBomb) Read(p []byte) (int, error) {
	for b.buf.Len() == 0 {
		if b.left == 0 {
			if b.flushed {
				return 0, io.EOF
			}
			b.fw.Flush()
			b.flushed = true
			continue
		}
		k := min(b.left, int64(len(b.zeros)))
		b.fw.Write(b.zeros[:k])
		b.left -= k
	}
	n, _ := b.buf.Read(p)
	b.pulled += int64(n)
	return n, nil
}

func TestBomb(t *testing.T) {
	const limit = 1 << 20
	// About 10 KB that inflate to 10 MiB (DEFLATE tops out near 1:1032).
	bomb, _ := io.ReadAll(newZeroBomb(10 << 20))
	t.Logf("bomb: %d compressed bytes for 10 MiB", len(bomb))
	for _, noContext := range []bool{true, false} {
		d := NewDecompressor(noContext)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d.Reset(bytes.NewReader(bomb), limit)
		n, err := io.Copy(io.Discard, d)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) || n != limit {
			t.Fatalf("noContext %v: read %d bytes, %v; want %d, ErrTooLarge", noContext, n, err, limit)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("noContext %v: allocated %d bytes inflating the bomb", noContext, alloc)
		} else {
			t.Logf("noContext %v: allocated %d bytes while stopping the bomb at %d", noContext, alloc, limit)
		}
	}
	// A stream that would inflate to 4 GiB stops after reading a few KB.
	lazy := newZeroBomb(4 << 30)
	d := NewDecompressor(true)
	d.Reset(lazy, limit)
	if n, err := io.Copy(io.Discard, d); !errors.Is(err, ErrTooLarge) || n != limit {
		t.Fatalf("4 GiB bomb: read %d bytes, %v", n, err)
	}
	if lazy.pulled > 64<<10 {
		t.Errorf("4 GiB bomb: pulled %d compressed bytes to produce %d", lazy.pulled, limit)
	}
}

func TestCorruptInput(t *testing.T) {
	msg := jsonMessages(1, 4000)[0]
	c, _ := NewCompressor(flate.DefaultCompression, true, 15)
	z := c.Append(nil, msg)
	for name, payload := range map[string][]byte{
		"reserved block type":    {0x07, 0x00},
		"stored length mismatch": {0x00, 0x05, 0x00, 0x00, 0x00, 'H'},
		"truncated":              z[:len(z)/2],
		"distance before start":  {0xf2, 0x00, 0x11, 0x00, 0x00}, // 7.2.3.2 without its first message
	} {
		d := NewDecompressor(true)
		d.Reset(bytes.NewReader(payload), -1)
		if _, err := io.ReadAll(d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A payload reader's error reaches the caller unchanged.
	d := NewDecompressor(false)
	d.Reset(io.MultiReader(bytes.NewReader(z[:10]), errReader{}), -1)
	if _, err := io.ReadAll(d); !errors.Is(err, errFail) {
		t.Errorf("source error: %v; want errFail", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errFail }

func FuzzInflateLimit(f *testing.F) {
	for _, seed := range [][]byte{rfcHello, rfcHelloAgain, rfcHelloStored, rfcHelloFinal, rfcHelloTwoBlocks, {}, {0x00}, {0x02, 0x00}} {
		f.Add(seed, seed, int64(3))
	}
	c, _ := NewCompressor(flate.BestCompression, false, 15)
	m := jsonMessages(2, 600)
	f.Add(c.Append(nil, m[0]), c.Append(nil, m[1]), int64(700))
	bomb, _ := io.ReadAll(newZeroBomb(1 << 20))
	f.Add(bomb, []byte{0x00}, int64(4096))
	f.Fuzz(func(t *testing.T, first, second []byte, limit int64) {
		limit %= 1 << 20
		for _, noContext := range []bool{false, true} {
			d := NewDecompressor(noContext)
			for _, payload := range [][]byte{first, second} {
				d.Reset(bytes.NewReader(payload), limit)
				n, err := io.Copy(io.Discard, d)
				if limit >= 0 && n > limit {
					t.Fatalf("returned %d bytes with limit %d", n, limit)
				}
				if errors.Is(err, ErrTooLarge) && n != limit {
					t.Fatalf("ErrTooLarge after %d bytes with limit %d", n, limit)
				}
			}
		}
	})
}

func TestAfterFinalBlock(t *testing.T) {
	final := rfcHelloFinal[:7] // "Hello" in a BFINAL block, without 7.2.1's 0x00
	tests := []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"7.2.3.4 as in the RFC", rfcHelloFinal, true},
		{"nothing after the final block", final, true},
		{"a whole empty stored block after it", append(bytes.Clone(final), 0x00, 0x00, 0x00, 0xff, 0xff), true},
		{"garbage after it", append(bytes.Clone(final), 'x', 'y'), false},
		{"a second stream after it", append(bytes.Clone(final), rfcHello...), false},
		{"the empty block and more", append(bytes.Clone(final), 0x00, 0x00, 0x00, 0xff, 0xff, 0x00), false},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = bytes.NewReader(tt.payload)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			d := NewDecompressor(false)
			d.Reset(src, -1)
			got, err := io.ReadAll(d)
			var corrupt flate.CorruptInputError
			switch {
			case tt.ok && (err != nil || string(got) != "Hello"):
				t.Errorf("%s (one byte %v): %q, %v", tt.name, oneByte, got, err)
			case !tt.ok && !errors.As(err, &corrupt):
				t.Errorf("%s (one byte %v): err = %v; want a flate.CorruptInputError", tt.name, oneByte, err)
			}
			// Either way the payload has been read to its end or to the
			// first bad byte; on success nothing is left for the Conn.
			if tt.ok {
				if n, _ := src.Read(make([]byte, 1)); n != 0 {
					t.Errorf("%s (one byte %v): payload not drained", tt.name, oneByte)
				}
			}
		}
	}
}
