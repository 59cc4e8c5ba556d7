package starling

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

// acceptWithOffer connects a raw client to a Starling server that accepts
// with opts, offering ext as its Sec-WebSocket-Extensions, and returns the
// server's Conn, the raw peer and the server's answer to the offer.
func acceptWithOffer(t *testing.T, opts *AcceptOptions, ext string) (*Conn, *rawPeer, string) {
	t.Helper()
	a, b := connPair(t, tcpTransport)
	c, p, answer := serveOne(t, a, b, opts, ext)
	t.Cleanup(func() {
		c.CloseNow()
		p.nc.Close()
	})
	return c, p, answer
}

// TestCompressionPreparedHonoursWindowBits checks that a PreparedMessage
// written to connections that negotiated different server_max_window_bits
// is compressed, for each, within the window that connection's client
// allows (RFC 7692 section 7.1.2.1): a client that asked for 2^9 bytes may
// have only that much window to inflate with.
func TestCompressionPreparedHonoursWindowBits(t *testing.T) {
	// Two copies of 5000 random bytes: only a back-reference 5000 bytes
	// long compresses it, so a payload compressed within a 4 KiB window
	// or less is no smaller than the message, and one that reaches
	// further is about half its size.
	half := randomBytes(5000, 7)
	data := append(append([]byte(nil), half...), half...)
	pm, err := NewPreparedMessage(MessageBinary, data)
	if err != nil {
		t.Fatal(err)
	}
	opts := &AcceptOptions{Compression: CompressionOptions{Mode: CompressionContextTakeover, Threshold: -1}}
	// The order matters: the first connection makes the prepared frame.
	for _, tt := range []struct {
		offer    string
		response string
		far      bool // back-references may reach 5000 bytes
	}{
		{"permessage-deflate", "permessage-deflate", true},
		{"permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9", false},
		{"permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12", false},
		{"permessage-deflate; server_max_window_bits=13", "permessage-deflate; server_max_window_bits=13", true},
	} {
		c, p, response := acceptWithOffer(t, opts, tt.offer)
		if response != tt.response {
			t.Fatalf("offer %q answered %q, want %q", tt.offer, response, tt.response)
		}
		for range 2 { // the second time from the prepared frame kept
			if err := c.WritePrepared(dialCtx(t), pm); err != nil {
				t.Fatal(err)
			}
			f, err := p.next()
			if err != nil || f.rsv != 0x40 || !f.fin {
				t.Fatalf("%s: rsv %#x fin %v, %v; want one compressed frame", tt.offer, f.rsv, f.fin, err)
			}
			got, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(f.payload, 0, 0, 0xff, 0xff))))
			if err != nil && err != io.ErrUnexpectedEOF || !bytes.Equal(got, data) {
				t.Fatalf("%s: payload inflates to %d bytes (%v), want the message", tt.offer, len(got), err)
			}
			if far := len(f.payload) < len(data)*3/4; far != tt.far {
				t.Fatalf("%s: %d bytes compressed to %d: back-references reach 5000 bytes = %v, want %v",
					tt.offer, len(data), len(f.payload), far, tt.far)
			}
		}
		if !strings.Contains(tt.offer, "window_bits") {
			continue
		}
		// The connection's own compressor honours the window too, and
		// still agrees with the peer after the prepared message.
		if err := c.Write(dialCtx(t), MessageBinary, data); err != nil {
			t.Fatal(err)
		}
		f, err := p.next()
		if err != nil {
			t.Fatal(err)
		}
		if far := len(f.payload) < len(data)*3/4; far != tt.far {
			t.Fatalf("%s: Write compressed %d bytes to %d: back-references reach 5000 bytes = %v, want %v",
				tt.offer, len(data), len(f.payload), far, tt.far)
		}
	}
}

// TestCompressionDialEmptyExtensionsHeader checks that a client accepts a
// response whose Sec-WebSocket-Extensions header lists no extension:
// empty list elements are ignored (RFC 7230 section 7), so the header
// names nothing the client did not offer (RFC 6455 section 4.1), whether
// it offered permessage-deflate or not.
func TestCompressionDialEmptyExtensionsHeader(t *testing.T) {
	for _, value := range []string{"", " ", ", ,"} {
		for _, mode := range []CompressionMode{CompressionDisabled, CompressionContextTakeover} {
			s := newRawServer(t, respond101(func(lines []string, _ string) []string {
				return append(lines, "Sec-WebSocket-Extensions: "+value)
			}))
			c, _, err := Dial(dialCtx(t), s.url(), &DialOptions{Compression: CompressionOptions{Mode: mode}})
			if err != nil {
				t.Fatalf("mode %d, Sec-WebSocket-Extensions %q: Dial: %v", mode, value, err)
			}
			if c.ext != nil {
				t.Errorf("mode %d, Sec-WebSocket-Extensions %q: compression negotiated", mode, value)
			}
			c.CloseNow()
		}
	}
}
