package deflate

import (
	"bytes"
	"testing"
)

// FuzzEncoder compresses fuzzed data as a stream of messages, cut into
// messages and pieces by fuzzed bytes, with a fuzzed window, with and
// without context takeover, and inflates each message with compress/flate
// from only the window's worth of what came before it; the tracer
// (window_test.go) also finds no back-reference beyond the window, within
// a message or into the ones before it.
func FuzzEncoder(f *testing.F) {
	f.Add([]byte("hello hello hello"), []byte{3, 0x80 | 1}, uint8(7), true)
	f.Add(bytes.Repeat([]byte("abcab"), 300), []byte{0, 1, 0x82}, uint8(0), false)
	f.Add(bytes.Repeat([]byte("abcdefghij"), 100), []byte{0, 1, 0x82}, uint8(0), false)
	f.Add(bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 30), []byte{0x85, 2}, uint8(130), true)
	f.Fuzz(func(t *testing.T, data, cuts []byte, bits uint8, keep bool) {
		// Mostly the windows RFC 7692 negotiates, 2^8..2^15; sometimes
		// the small ones a limited history asks for.
		window := 1 << (8 + bits%8)
		if bits >= 128 {
			window = 1 + int(bits-128)
		}
		// Stretch the data so that messages outgrow small windows and
		// the Encoder's buffers.
		if len(data) > 0 && len(cuts) > 0 && cuts[0]&0x40 != 0 {
			data = bytes.Repeat(data, 1+int(cuts[0]&0x3f)*64/len(data))
		}
		e := NewEncoder(window, keep)
		var before, msg, z []byte
		for {
			// A cut byte gives a piece's length (its low 7 bits × 37) and
			// whether the message ends after it (its high bit).
			k, end := len(data), true
			if len(cuts) > 0 {
				k, end = min(k, int(cuts[0]&0x7f)*37), cuts[0]&0x80 != 0
				cuts = cuts[1:]
			}
			z = e.Write(z, data[:k])
			msg = append(msg, data[:k]...)
			data = data[k:]
			if end || len(cuts) == 0 {
				z = e.Flush(z)
				var history []byte
				if keep {
					history = before[max(0, len(before)-window):]
				}
				if got := inflate(t, history, z); !bytes.Equal(got, msg) {
					t.Fatalf("message of %d bytes: round trip differs", len(msg))
				}
				if got, err := trace(history, z, window); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("window %d, message of %d bytes: %v", window, len(msg), err)
				}
				before = append(before, msg...)
				msg, z = msg[:0], z[:0]
			}
			if len(data) == 0 && len(cuts) == 0 {
				return
			}
		}
	})
}
