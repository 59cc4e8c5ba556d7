package starling

import (
	"context"
	"testing"
)

// TestReadAfterCloseFailedKeepsCause has Close fail the connection while
// it reads for the peer's answer, the peer sending a message over the read
// limit instead. The message's payload is left in the read buffer; a Read
// after Close must report how the connection ended (1009), not parse that
// payload as frames and report a protocol error (1002) nobody sent.
func TestReadAfterCloseFailedKeepsCause(t *testing.T) {
	c, p := newPair(t, serverRole, tcpTransport)
	c.SetReadLimit(1024)
	closed := make(chan error, 1)
	go func() { closed <- c.Close(StatusNormalClosure, "") }()
	if f, err := p.nextNonPong(); err != nil || f.op != 0x8 {
		t.Fatalf("waiting for the close frame: %v, opcode %#x", err, f.op)
	}
	// A 4 KiB message whose payload reads as frames with RSV bits set.
	payload := make([]byte, 4096)
	for i := range payload {
		payload[i] = 0xf2
	}
	if err := p.send(rawFrame{fin: true, op: 2, payload: payload}); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; CloseStatus(err) != StatusMessageTooBig {
		t.Fatalf("Close: %v, want status 1009", err)
	}
	_, _, err := c.Read(context.Background())
	if CloseStatus(err) != StatusMessageTooBig {
		t.Fatalf("Read after Close failed the connection with 1009: %v (status %v)", err, CloseStatus(err))
	}
}
