package wsflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
	"testing/iotest"
)

// The examples of RFC 7692 section 7.2.3, as message payloads.
var (
	rfcHello           = []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}                                     // 7.2.3.1
	rfcHelloAgain      = []byte{0xf2, 0x00, 0x11, 0x00, 0x00}                                                 // 7.2.3.2, second message
	rfcHelloStored     = []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}             // 7.2.3.3
	rfcHelloFinal      = []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}                               // 7.2.3.4
	rfcHelloTwoBlocks  = []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00} // 7.2.3.5
	emptyStoredMessage = []byte{0x00}                                                                         // empty stored block, tail removed
	emptyFixedMessage  = []byte{0x02, 0x00}                                                                   // empty fixed-Huffman block
)

func inflate(t *testing.T, d *Decompressor, payload []byte) string {
	t.Helper()
	d.Reset(bytes.NewReader(payload), -1)
	got, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("inflating % x: %v", payload, err)
	}
	return string(got)
}

func TestRFCCompressHello(t *testing.T) {
	// Section 7.2.3.1: "Hello" compressed, no context takeover. The RFC
	// allows a stored block instead (section 7.2.3.3), which is what
	// compress/flate picks when Huffman coding would not be shorter.
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
		c, err := NewCompressor(level, true, 15)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := c.Append(nil, []byte("Hello")); !bytes.Equal(got, rfcHello) && !bytes.Equal(got, rfcHelloStored) {
				t.Errorf("level %d: Hello = % x; want % x or % x", level, got, rfcHello, rfcHelloStored)
			}
		}
	}
}

func TestRFCCompressHelloTakeover(t *testing.T) {
	// Section 7.2.3.2: with context takeover the second "Hello" may refer
	// to the first. Encoders may differ in how they find matches, so check
	// the first message byte for byte and that the second is shorter and
	// inflates back, then that the RFC's own bytes inflate.
	c, err := NewCompressor(flate.BestCompression, false, 15)
	if err != nil {
		t.Fatal(err)
	}
	first := c.Append(nil, []byte("Hello"))
	second := c.Append(nil, []byte("Hello"))
	if !bytes.Equal(first, rfcHello) {
		t.Errorf("first Hello = % x; want % x", first, rfcHello)
	}
	if len(second) >= len(first) {
		t.Errorf("second Hello = % x; want a back-reference shorter than % x", second, first)
	}
	t.Logf("second Hello with takeover: % x (RFC: % x)", second, rfcHelloAgain)
	d := NewDecompressor(false)
	for _, m := range [][]byte{first, second} {
		if got := inflate(t, d, m); got != "Hello" {
			t.Errorf("inflate(% x) = %q", m, got)
		}
	}
}

func TestRFCDecompressExamples(t *testing.T) {
	tests := []struct {
		name     string
		messages [][]byte
		want     []string
	}{
		{"7.2.3.1 Hello", [][]byte{rfcHello}, []string{"Hello"}},
		{"7.2.3.2 takeover", [][]byte{rfcHello, rfcHelloAgain}, []string{"Hello", "Hello"}},
		{"7.2.3.3 stored block", [][]byte{rfcHelloStored}, []string{"Hello"}},
		{"7.2.3.4 BFINAL set", [][]byte{rfcHelloFinal}, []string{"Hello"}},
		{"7.2.3.4 BFINAL set, then a reference back past the final block", [][]byte{rfcHelloFinal, rfcHelloAgain}, []string{"Hello", "Hello"}},
		{"7.2.3.5 two blocks", [][]byte{rfcHelloTwoBlocks}, []string{"Hello"}},
		{"empty stored block", [][]byte{emptyStoredMessage, rfcHello}, []string{"", "Hello"}},
		{"empty fixed block", [][]byte{emptyFixedMessage, rfcHello}, []string{"", "Hello"}},
		{"empty payload", [][]byte{{}, rfcHello}, []string{"", "Hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The Conn feeds a payload frame by frame, so also read each
			// one a byte at a time, as if every byte were a fragment.
			d, frag := NewDecompressor(false), NewDecompressor(false)
			for i, m := range tt.messages {
				if got := inflate(t, d, m); got != tt.want[i] {
					t.Errorf("message %d: inflate(% x) = %q; want %q", i, m, got, tt.want[i])
				}
				frag.Reset(iotest.OneByteReader(bytes.NewReader(m)), -1)
				if got, err := io.ReadAll(frag); err != nil || string(got) != tt.want[i] {
					t.Errorf("message %d byte by byte: inflate(% x) = %q, %v; want %q", i, m, got, err, tt.want[i])
				}
			}
		})
	}
}
