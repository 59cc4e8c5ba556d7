package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"
)

// reference inflates payload after history with compress/flate the way
// internal/wsflate did before this package: payload, then 00 00 ff ff, then
// an empty BFINAL stored block 01 00 00 ff ff (only the latter for an empty
// payload), read through a bytes.Reader, which flate reads byte by byte
// (io.ByteReader) and so never past what it decodes. consumed tells where
// flate's stream ended, which maps its result onto this package's
// semantics:
//
//   - It ended inside the payload (a BFINAL block in the payload): the
//     rest of the payload must be a prefix of 00 00 00 ff ff (RFC 7692
//     section 7.2.3.4), or the payload is corrupt.
//   - It ended inside the restored 00 00 ff ff: a BFINAL block that the
//     restored bytes completed; success.
//   - It ended exactly after the sentinel block: the payload and its
//     tail ended on a block boundary; success, if flate agrees with a
//     different sentinel (else the payload's last block ran through the
//     sentinel as data, which is the next case).
//   - It ended inside the sentinel: the payload's last block ran past the
//     restored tail, and flate decoded sentinel bytes as its data. Without
//     the sentinel the stream would have been cut: io.ErrUnexpectedEOF.
//
// A failure of flate after it read into the sentinel may be corruption
// where this package, which sees the stream end there, reports
// io.ErrUnexpectedEOF, and the other way round; reference's error kinds
// are only compared when flate failed before the sentinel (see kindsComparable).
func reference(history, payload []byte) (out []byte, consumed int, err error) {
	out, consumed, err = runFlate(history, payload, sentinel[:])
	if err != nil {
		return out, consumed, err
	}
	n := len(payload)
	switch {
	case len(payload) == 0:
	case consumed == n+4+len(sentinel):
		// Either the sentinel was a block of its own, or the payload's
		// last block ran into it and happened to end with it. A second,
		// different sentinel tells them apart.
		out2, consumed2, err2 := runFlate(history, payload, sentinel2[:])
		if err2 != nil || consumed2 != n+4+len(sentinel2) || !bytes.Equal(out, out2) {
			err = io.ErrUnexpectedEOF
		}
	case consumed <= n:
		rest := payload[consumed:]
		if len(rest) > len(emptyStoredBlock) || !bytes.Equal(rest, emptyStoredBlock[:len(rest)]) {
			err = flate.CorruptInputError(consumed)
		}
	case consumed <= n+4:
	default:
		err = io.ErrUnexpectedEOF
	}
	return out, consumed, err
}

// sentinel is an empty stored block with BFINAL set; sentinel2 an empty
// fixed Huffman block with BFINAL set (1, 01, then end of block 0000000).
var (
	sentinel  = [5]byte{0x01, 0x00, 0x00, 0xff, 0xff}
	sentinel2 = [2]byte{0x03, 0x00}
)

func runFlate(history, payload, end []byte) ([]byte, int, error) {
	in := append(bytes.Clone(payload), syncTail[:]...)
	if len(payload) == 0 {
		in = nil
	}
	in = append(in, end...)
	br := bytes.NewReader(in)
	out, err := io.ReadAll(flate.NewReaderDict(br, history))
	return out, len(in) - br.Len(), err
}

// kindsComparable reports whether a failure of reference must be of the
// same kind as ours: flate failed having read at most the payload and its
// restored tail, so it saw exactly the bytes we see.
func kindsComparable(payload []byte, consumed int) bool {
	return consumed <= len(payload)+4
}

// withHistory inflates payload after a first message that consists of
// history in stored blocks, so that history becomes the window.
func withHistory(history, payload []byte, chunk int) ([]byte, error) {
	r := NewReader(true)
	if len(history) > 0 {
		var h []byte
		for rest := history; len(rest) > 0; {
			n := min(len(rest), 65535)
			h = append(h, stored(false, rest[:n])...)
			rest = rest[n:]
		}
		h = append(h, 0x00)
		if got, err := inflateAll(r, bytes.NewReader(h), 4096); err != nil || !bytes.Equal(got, history) {
			panic("history does not inflate")
		}
	}
	return inflateAll(r, bytes.NewReader(payload), chunk)
}

func compareWithReference(t *testing.T, history, payload []byte, chunk int) {
	t.Helper()
	if len(history) > winSize {
		history = history[len(history)-winSize:]
	}
	want, consumed, werr := reference(history, payload)
	got, err := withHistory(history, payload, chunk)
	n := min(len(got), len(want))
	if !bytes.Equal(got[:n], want[:n]) {
		t.Fatalf("output differs within the first %d bytes (ours %d, flate %d; errors %v, %v)", n, len(got), len(want), err, werr)
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("ours: %d bytes, %v; flate: %d bytes, %v (consumed %d of %d+4)", len(got), err, len(want), werr, consumed, len(payload))
	}
	if err == nil {
		if len(got) != len(want) {
			t.Fatalf("both succeed; ours %d bytes, flate %d", len(got), len(want))
		}
		return
	}
	var c flate.CorruptInputError
	if !errors.As(err, &c) && err != io.ErrUnexpectedEOF {
		t.Fatalf("unexpected error %v", err)
	}
	if kindsComparable(payload, consumed) {
		if errors.As(werr, &c) != errors.As(err, &c) {
			t.Fatalf("ours: %v; flate: %v (consumed %d of %d+4)", err, werr, consumed, len(payload))
		}
	}
}

func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.BestCompression} {
		seeds = append(seeds, compress(tb, level, jsonMessages(1, 300, 1)[0]), compress(tb, level, textData(500)))
	}
	seeds = append(seeds,
		[]byte{}, []byte{0x00}, []byte{0x01}, []byte{0x02, 0x00}, []byte{0x03, 0x00},
		[]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		[]byte{0xf2, 0x00, 0x11, 0x00, 0x00},
		[]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00},
		[]byte{0x07, 0x00},
	)
	return seeds
}

// FuzzInflate checks the Reader against compress/flate (see reference) on
// arbitrary payloads after an arbitrary history.
func FuzzInflate(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(nil), s, uint16(4096))
		f.Add([]byte("Hello"), s, uint16(1))
	}
	f.Fuzz(func(t *testing.T, history, payload []byte, chunk uint16) {
		compareWithReference(t, history, payload, int(chunk%8192)+1)
	})
}

var writers [12]*flate.Writer

// FuzzRoundTrip compresses two messages with one flate.Writer (context
// takeover) and inflates them with one Reader.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello"), []byte("hello again"), int8(6), uint16(7))
	f.Add(textData(2000), jsonMessages(1, 500, 2)[0], int8(1), uint16(4096))
	f.Add([]byte{}, make([]byte, 1000), int8(-2), uint16(1))
	f.Fuzz(func(t *testing.T, a, b []byte, level int8, chunk uint16) {
		lv := int(level)%12 - 2
		if lv < -2 {
			lv += 12
		}
		// A flate.Writer costs ~1 MB to make: one per level, Reset per run.
		fw := writers[lv+2]
		if fw == nil {
			var err error
			if fw, err = flate.NewWriter(nil, lv); err != nil {
				t.Fatal(err)
			}
			writers[lv+2] = fw
		}
		var buf bytes.Buffer
		fw.Reset(&buf)
		r := NewReader(true)
		for _, m := range [][]byte{a, b, a} {
			z := compressMsg(t, fw, &buf, m)
			got, err := inflateAll(r, bytes.NewReader(z), int(chunk%8192)+1)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("level %d: %d bytes, %v; want %d", lv, len(got), err, len(m))
			}
		}
	})
}
