package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

var testLengths = []int64{0, 1, 125, 126, 127, 128, 65535, 65536, 16 << 20, math.MaxInt64}

// flagHeaders returns headers with every combination of the four flag bits,
// each with a different opcode so that all 16 opcodes appear.
func flagHeaders(length int64, masked bool) []Header {
	var hs []Header
	for bits := range 16 {
		h := Header{
			Fin:    bits&8 != 0,
			Rsv1:   bits&4 != 0,
			Rsv2:   bits&2 != 0,
			Rsv3:   bits&1 != 0,
			Opcode: Opcode(15 - bits),
			Masked: masked,
			Length: length,
		}
		if masked {
			h.Key = [4]byte{0xa1, 0x00, 0xff, byte(bits)}
		}
		hs = append(hs, h)
	}
	return hs
}

func TestRoundTrip(t *testing.T) {
	for _, length := range testLengths {
		for _, masked := range []bool{false, true} {
			for _, h := range flagHeaders(length, masked) {
				var buf [MaxHeaderSize + 1]byte
				n := Encode(buf[:], &h)
				if n != h.Size() {
					t.Fatalf("%+v: Encode wrote %d bytes, Size says %d", h, n, h.Size())
				}
				got, m, err := Decode(buf[:n])
				if err != nil || m != n || got != h {
					t.Fatalf("Decode(Encode(%+v)) = %+v, %d, %v; want same header, %d, nil", h, got, m, err, n)
				}
				if buf[n] != 0 {
					t.Fatalf("%+v: Encode wrote past the %d bytes it reported", h, n)
				}
			}
		}
	}
}

// TestEncodeExactBuffer checks that Encode needs no more room than Size
// reports: callers size header buffers with it.
func TestEncodeExactBuffer(t *testing.T) {
	for _, length := range testLengths {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Masked: masked, Length: length}
			if masked {
				h.Key = [4]byte{1, 2, 3, 4}
			}
			buf := make([]byte, h.Size())
			n := Encode(buf, &h)
			if got, m, err := Decode(buf); err != nil || m != n || got != h {
				t.Errorf("Decode(Encode(%+v)) into %d bytes = %+v, %d, %v", h, len(buf), got, m, err)
			}
		}
	}
}

// TestWireFormat checks exact encodings, including the examples of RFC 6455
// section 5.7.
func TestWireFormat(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		wire []byte
	}{
		{"unmasked text", Header{Fin: true, Opcode: OpText, Length: 5},
			[]byte{0x81, 0x05}},
		{"masked text", Header{Fin: true, Opcode: OpText, Masked: true, Length: 5, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}},
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{"first fragment", Header{Opcode: OpText, Length: 3},
			[]byte{0x01, 0x03}},
		{"last fragment", Header{Fin: true, Opcode: OpContinuation, Length: 2},
			[]byte{0x80, 0x02}},
		{"ping", Header{Fin: true, Opcode: OpPing, Length: 5},
			[]byte{0x89, 0x05}},
		{"256 bytes", Header{Fin: true, Opcode: OpBinary, Length: 256},
			[]byte{0x82, 0x7e, 0x01, 0x00}},
		{"64 KiB", Header{Fin: true, Opcode: OpBinary, Length: 65536},
			[]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"compressed", Header{Fin: true, Rsv1: true, Opcode: OpText, Length: 7},
			[]byte{0xc1, 0x07}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, MaxHeaderSize)
			n := Encode(buf, &tt.h)
			if !bytes.Equal(buf[:n], tt.wire) {
				t.Errorf("Encode = % x, want % x", buf[:n], tt.wire)
			}
			h, n, err := Decode(tt.wire)
			if err != nil || n != len(tt.wire) || h != tt.h {
				t.Errorf("Decode = %+v, %d, %v; want %+v, %d, nil", h, n, err, tt.h, len(tt.wire))
			}
		})
	}
}

// TestMaskRFCExample masks "Hello" with the key of RFC 6455 section 5.7.
func TestMaskRFCExample(t *testing.T) {
	b := []byte("Hello")
	Mask([4]byte{0x37, 0xfa, 0x21, 0x3d}, 0, b)
	want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	if !bytes.Equal(b, want) {
		t.Fatalf("masked Hello = % x, want % x", b, want)
	}
}

func TestDecodeNonMinimal(t *testing.T) {
	var tests [][]byte
	for _, l := range []uint16{0, 1, 125} {
		tests = append(tests, binary.BigEndian.AppendUint16([]byte{0x82, 126}, l))
	}
	for _, l := range []uint64{0, 125, 126, 65535} {
		tests = append(tests, binary.BigEndian.AppendUint64([]byte{0x82, 127}, l))
		masked := binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, l)
		tests = append(tests, append(masked, 1, 2, 3, 4))
	}
	for _, b := range tests {
		if _, n, err := Decode(b); !errors.Is(err, ErrNonMinimal) || n != len(b) {
			t.Errorf("Decode(% x) = %d, %v; want %d, ErrNonMinimal", b, n, err, len(b))
		}
	}
}

func TestDecodeLengthTooHigh(t *testing.T) {
	for _, l := range []uint64{1 << 63, 1<<63 + 65536, math.MaxUint64} {
		b := binary.BigEndian.AppendUint64([]byte{0x82, 127}, l)
		if _, _, err := Decode(b); !errors.Is(err, ErrLengthTooHigh) {
			t.Errorf("Decode(% x) error = %v, want ErrLengthTooHigh", b, err)
		}
	}
}

// TestDecodeShort checks that every proper prefix of a header is reported as
// short, with the size needed: 2 until the second byte tells the full size.
func TestDecodeShort(t *testing.T) {
	for _, length := range testLengths {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Masked: masked, Length: length, Key: [4]byte{1, 2, 3, 4}}
			buf := make([]byte, MaxHeaderSize)
			size := Encode(buf, &h)
			for i := range size {
				want := size
				if i < 2 {
					want = 2
				}
				if _, n, err := Decode(buf[:i]); !errors.Is(err, ErrShortHeader) || n != want {
					t.Errorf("Decode of %d of %d bytes = %d, %v; want %d, ErrShortHeader", i, size, n, err, want)
				}
			}
		}
	}
}

func TestEncodeNegativeLengthPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Encode with a negative length did not panic")
		}
	}()
	Encode(make([]byte, MaxHeaderSize), &Header{Length: -1})
}

func TestOpcode(t *testing.T) {
	for op := range Opcode(16) {
		known := op <= 2 || (op >= 8 && op <= 10)
		if op.IsKnown() != known {
			t.Errorf("Opcode(%d).IsKnown() = %v, want %v", op, op.IsKnown(), known)
		}
		if op.IsControl() != (op >= 8) {
			t.Errorf("Opcode(%d).IsControl() = %v, want %v", op, op.IsControl(), op >= 8)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000}
	buf := make([]byte, MaxHeaderSize)
	allocs := testing.AllocsPerRun(100, func() {
		n := Encode(buf, &h)
		if _, _, err := Decode(buf[:n]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Encode+Decode allocated %v times per run, want 0", allocs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x81, 0x05})
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d})
	f.Add([]byte{0x82, 0x7e, 0x01, 0x00})
	f.Add([]byte{0x82, 0xfe, 0x00, 0x7d, 1, 2, 3, 4})
	f.Add([]byte{0x02, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 9, 9, 9, 9})
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x88})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Decode(b)
		if err != nil {
			if errors.Is(err, ErrShortHeader) && n <= len(b) {
				t.Fatalf("Decode(% x): short header but needs only %d bytes", b, n)
			}
			return
		}
		if n > len(b) || n != h.Size() {
			t.Fatalf("Decode(% x) used %d bytes; Size says %d", b, n, h.Size())
		}
		out := make([]byte, MaxHeaderSize)
		if m := Encode(out, &h); !bytes.Equal(out[:m], b[:n]) {
			t.Fatalf("Encode(Decode(% x)) = % x", b[:n], out[:m])
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000, Key: [4]byte{1, 2, 3, 4}}
	buf := make([]byte, MaxHeaderSize)
	b.ReportAllocs()
	for b.Loop() {
		Encode(buf, &h)
	}
}

func BenchmarkDecode(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000, Key: [4]byte{1, 2, 3, 4}}
	buf := make([]byte, MaxHeaderSize)
	n := Encode(buf, &h)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
