package starling

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestLargePayloadSkew checks where Read and ReadSlice put a large
// message: whole, and largePayloadSkew bytes past a page boundary, where
// the kernel copies it fast when a server writes it back (read.go).
func TestLargePayloadSkew(t *testing.T) {
	c, p := newPair(t, serverRole, tcpTransport)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	reads := map[string]func() ([]byte, error){
		"Read":      func() ([]byte, error) { _, b, err := c.Read(dialCtx(t)); return b, err },
		"ReadSlice": func() ([]byte, error) { _, b, err := c.ReadSlice(dialCtx(t)); return b, err },
	}
	for _, name := range []string{"Read", "ReadSlice", "ReadSlice"} { // the second ReadSlice reuses the spill buffer
		go p.send(rawFrame{fin: true, op: 0x2, payload: msg})
		b, err := reads[name]()
		if err != nil || !bytes.Equal(b, msg) {
			t.Fatalf("%s: %d bytes, %v; want the 1 MiB sent", name, len(b), err)
		}
		if off := uintptr(unsafe.Pointer(&b[0])) % 4096; off != largePayloadSkew {
			t.Errorf("%s: payload at page offset %d, want %d", name, off, largePayloadSkew)
		}
	}
}
