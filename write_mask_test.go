package starling

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/starling-ws/starling/internal/frame"
)

// TestClientWriteMaskedInChunks checks that a client message reaches the
// peer intact and masked with one key, whatever its length against the
// write buffer and the masking buffer's chunks (write.go).
func TestClientWriteMaskedInChunks(t *testing.T) {
	c, p := newPair(t, clientRole, tcpTransport)
	buf := maskBuffers.Get().(*[]byte)
	chunk := len(*buf) - frame.MaxHeaderSize // a chunk's room after the 14-byte header
	maskBuffers.Put(buf)
	for _, size := range []int{writeBufferSize, writeBufferSize + 1, chunk - 1, chunk, chunk + 1, 2*chunk + 7, 1<<20 + 3} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(rand.Uint32())
		}
		if err := c.Write(dialCtx(t), MessageBinary, msg); err != nil {
			t.Fatalf("Write of %d bytes: %v", size, err)
		}
		f, err := p.nextNonPong()
		if err != nil {
			t.Fatalf("peer reading a %d-byte message: %v", size, err)
		}
		if !f.fin || f.op != 0x2 || !f.masked || !bytes.Equal(f.payload, msg) {
			t.Fatalf("a %d-byte message arrived as fin %v op %#x masked %v, %d bytes, equal %v",
				size, f.fin, f.op, f.masked, len(f.payload), bytes.Equal(f.payload, msg))
		}
	}
}
