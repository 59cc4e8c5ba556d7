package wsflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestRoundTripTakeover(t *testing.T) {
	msgs := jsonMessages(100, 1024)
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.HuffmanOnly} {
		var total [2]int
		for i, noContext := range []bool{false, true} {
			c, err := NewCompressor(level, noContext, 15)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecompressor(noContext)
			for j, m := range msgs {
				z := c.Append(nil, m)
				total[i] += len(z)
				if got := inflate(t, d, z); got != string(m) {
					t.Fatalf("level %d, noContext %v, message %d: round trip differs", level, noContext, j)
				}
			}
		}
		t.Logf("level %d: 100 x 1 KiB JSON -> %d bytes with takeover, %d without", level, total[0], total[1])
		if level != flate.HuffmanOnly && total[0] >= total[1] {
			t.Errorf("level %d: takeover output %d not smaller than %d without", level, total[0], total[1])
		}
	}
}

// TestRoundTripStreaming writes messages in random pieces, as the Conn's
// streaming writer does, and reads them back a byte at a time, as if every
// byte came in its own frame.
func TestRoundTripStreaming(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	msgs := append(jsonMessages(20, 3000), nil, []byte("x"), bytes.Repeat([]byte("ab"), 70000))
	for _, mode := range []struct {
		level     int
		noContext bool
		bits      int
	}{
		{flate.BestSpeed, false, 15}, {flate.BestSpeed, true, 15}, {flate.BestSpeed, false, 9},
		{flate.DefaultCompression, false, 15}, {flate.DefaultCompression, true, 15},
	} {
		noContext := mode.noContext
		c, _ := NewCompressor(mode.level, noContext, mode.bits)
		d := NewDecompressor(noContext)
		for j, m := range msgs {
			var z bytes.Buffer
			c.Reset(&z)
			for rest := m; len(rest) > 0; {
				k := min(len(rest), r.IntN(200))
				if _, err := c.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			if err := c.Finish(); err != nil {
				t.Fatal(err)
			}
			if bytes.HasSuffix(z.Bytes(), syncTail[:]) {
				t.Errorf("message %d still ends with 00 00 ff ff", j)
			}
			// Alternate readers that return the last bytes with io.EOF
			// and readers that return io.EOF on its own.
			src := iotest.OneByteReader(&z)
			if j%2 == 1 {
				src = iotest.DataErrReader(&z)
			}
			d.Reset(src, -1)
			got, err := io.ReadAll(iotest.HalfReader(d))
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("%+v, message %d: got %d bytes, %v; want %d bytes", mode, j, len(got), err, len(m))
			}
		}
	}
}

func TestRoundTripWindowBits(t *testing.T) {
	msgs := jsonMessages(20, 2048)
	widest := 0 // the checker must see long distances where they are allowed
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, mode := range []struct {
			level     int
			noContext bool
		}{{flate.BestSpeed, false}, {flate.BestSpeed, true}, {flate.BestCompression, false}, {flate.BestCompression, true}} {
			noContext := mode.noContext
			in, out := 0, 0
			c, _ := NewCompressor(mode.level, noContext, bits)
			d := NewDecompressor(noContext)
			var history []byte
			for j, m := range msgs {
				z := c.Append(nil, m)
				in, out = in+len(m), out+len(z)
				if got := inflate(t, d, z); got != string(m) {
					t.Fatalf("bits %d, %+v, message %d: round trip differs", bits, mode, j)
				}
				if noContext {
					history = nil
				}
				out, maxDist, err := traceInflate(history, z)
				if err != nil || !bytes.Equal(out[len(history):], m) {
					t.Fatalf("bits %d: trace inflate: %v", bits, err)
				}
				if maxDist > 1<<bits {
					t.Fatalf("bits %d, %+v, message %d: back-reference distance %d outside the window",
						bits, mode, j, maxDist)
				}
				history = out
				if bits == MaxWindowBits {
					widest = max(widest, maxDist)
				}
			}
			// A restricted window still finds matches: Huffman coding
			// alone gives about 0.6 on this corpus.
			if ratio := float64(out) / float64(in); bits >= 10 && ratio > 0.45 {
				t.Errorf("bits %d, %+v: ratio %.3f; the window restriction loses LZ77", bits, mode, ratio)
			}
		}
	}
	if widest <= 1<<MinWindowBits {
		t.Errorf("with a 15-bit window the largest distance was %d; the checker sees nothing", widest)
	}
}

func TestTraceInflateRFC(t *testing.T) {
	// Section 7.2.3.2: the second "Hello" is one match of distance 5.
	out, dist, err := traceInflate([]byte("Hello"), rfcHelloAgain)
	if err != nil || string(out) != "HelloHello" || dist != 5 {
		t.Fatalf("traceInflate = %q, %d, %v", out, dist, err)
	}
}

func TestCompressorErrors(t *testing.T) {
	if _, err := NewCompressor(10, false, 15); err == nil {
		t.Error("NewCompressor accepted level 10")
	}
	c, _ := NewCompressor(flate.BestSpeed, false, 15)
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("Write before Reset succeeded")
	}
	c.Reset(failWriter{})
	c.Write(bytes.Repeat([]byte("x"), 1<<16))
	if err := c.Finish(); !errors.Is(err, errFail) {
		t.Errorf("Finish on a failing writer = %v; want errFail", err)
	}
	// After a failure the Compressor starts a fresh stream.
	if got := inflate(t, NewDecompressor(false), c.Append(nil, []byte("Hello"))); got != "Hello" {
		t.Errorf("after failure: %q", got)
	}
}

func TestDecompressorBeforeReset(t *testing.T) {
	d := NewDecompressor(false)
	if n, err := d.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Errorf("Read before Reset = %d, %v; want 0 and an error", n, err)
	}
}

// TestDecompressorClose checks that Close forgets the history: with
// context takeover the next message starts with an empty window, and a
// reference into the old one (RFC 7692 section 7.2.3.2) is corrupt.
func TestDecompressorClose(t *testing.T) {
	d := NewDecompressor(false)
	if got := inflate(t, d, rfcHello); got != "Hello" {
		t.Fatalf("first message: %q", got)
	}
	d.Close()
	d.Reset(bytes.NewReader(rfcHelloAgain), -1)
	got, err := io.ReadAll(d)
	var corrupt flate.CorruptInputError
	if !errors.As(err, &corrupt) {
		t.Fatalf("reference into the window before Close: %q, %v; want a flate.CorruptInputError", got, err)
	}
	if got := inflate(t, d, rfcHello); got != "Hello" {
		t.Fatalf("after Close: %q", got)
	}
}

var errFail = errors.New("write failed")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

func TestPooling(t *testing.T) {
	// BestSpeed uses internal/deflate, whose pooling TestMemoryPerConnection
	// measures; the other levels use compress/flate.
	c, _ := NewCompressor(flate.DefaultCompression, true, 15)
	c.Append(nil, []byte("Hello"))
	if c.fw != nil {
		t.Error("no-takeover Compressor kept its flate.Writer after Finish")
	}
	c, _ = NewCompressor(flate.DefaultCompression, false, 15)
	c.Append(nil, []byte("Hello"))
	if c.fw == nil {
		t.Error("takeover Compressor dropped its flate.Writer")
	}
	c.Close()
	if c.fw != nil {
		t.Error("Close kept the flate.Writer")
	}
	d := NewDecompressor(true)
	inflate(t, d, rfcHello)
	if !d.r.Idle() {
		t.Error("no-takeover Decompressor kept its inflater after EOF")
	}
	d = NewDecompressor(false)
	inflate(t, d, rfcHello)
	if !d.r.Idle() {
		t.Error("takeover Decompressor kept its inflater after EOF")
	}
	if got := inflate(t, d, rfcHelloAgain); got != "Hello" {
		t.Errorf("takeover history lost with the inflater: %q", got)
	}
}

func TestTailWriter(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		var out bytes.Buffer
		tw := tailWriter{w: &out}
		for rest := data; len(rest) > 0; {
			k := min(len(rest), r.IntN(7))
			tw.Write(rest[:k])
			rest = rest[k:]
		}
		if got := out.String() + string(tw.held[:tw.n]); got != string(data) || tw.n != 4 {
			t.Fatalf("emitted %q + held %q", out.String(), tw.held[:tw.n])
		}
	}
}

// TestTailWriterError checks that a Write that passes bytes on reports
// the destination's error, even one the destination returns only once,
// and that it took none of its input.
func TestTailWriterError(t *testing.T) {
	for _, pieces := range [][]string{{"0123456"}, {"0123", "4567"}, {"0123", "456789"}, {"012", "34"}} {
		var w failOnceWriter
		tw := tailWriter{w: &w}
		var n int
		var err error
		for _, p := range pieces {
			if n, err = tw.Write([]byte(p)); err != nil {
				break
			}
		}
		if n != 0 || !errors.Is(err, errFail) {
			t.Errorf("writes %q: last Write = %d, %v; want 0, errFail", pieces, n, err)
		}
	}
}

// failOnceWriter fails its first Write and accepts the others.
type failOnceWriter struct {
	failed bool
	bytes.Buffer
}

func (w *failOnceWriter) Write(p []byte) (int, error) {
	if !w.failed {
		w.failed = true
		return 0, errFail
	}
	return w.Buffer.Write(p)
}

// FuzzRoundTrip compresses two messages with any level, window and mode,
// and checks that they inflate back and never refer outside the window.
func FuzzRoundTrip(f *testing.F) {
	m := jsonMessages(2, 300)
	f.Add(m[0], m[1], 1, 15, false)
	f.Add(m[0][:100], m[1][:100], 6, 8, false)
	f.Add([]byte("Hello"), []byte("Hello"), 9, 15, false)
	f.Add(bytes.Repeat([]byte("abc"), 300), []byte{}, -2, 9, true)
	f.Fuzz(func(t *testing.T, first, second []byte, level, bits int, noContext bool) {
		level = level%12 - 2 // -2..9
		if level < -2 {
			level += 12
		}
		bits = MinWindowBits + (bits%8+8)%8 // 8..15
		c, err := NewCompressor(level, noContext, bits)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecompressor(noContext)
		var history []byte
		for _, msg := range [][]byte{first, second} {
			z := c.Append(nil, msg)
			if got := inflate(t, d, z); got != string(msg) {
				t.Fatalf("level %d, bits %d: round trip differs", level, bits)
			}
			if noContext {
				history = nil
			}
			out, maxDist, err := traceInflate(history, z)
			if err != nil || !bytes.Equal(out[len(history):], msg) {
				t.Fatalf("trace inflate: %v", err)
			}
			if maxDist > 1<<bits {
				t.Fatalf("level %d, bits %d: distance %d", level, bits, maxDist)
			}
			history = out
		}
	})
}
