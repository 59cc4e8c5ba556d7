package starling

import (
	"bufio"
	"bytes"
	"context"
	"testing"
	"time"
)

// TestNetConnWriteCutLeavesWithoutAnotherWrite has a write deadline cut a
// NetConn write short, partway through a message that Write then reports
// written: the rest of it must reach a peer that starts reading, though
// nothing more is written, as bytes a TCP write reported written do.
func TestNetConnWriteCutLeavesWithoutAnotherWrite(t *testing.T) {
	for _, r := range bothRoles {
		t.Run(string(r), func(t *testing.T) {
			c, peer := modelPair(t, r, false, modelSocket)
			nc := NetConn(context.Background(), c, MessageBinary)
			_ = nc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			written := writeUntilCut(t, nc, 0, 100<<10)
			_ = nc.SetWriteDeadline(time.Time{})
			_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
			br := bufio.NewReader(peer)
			m := &modelPeer{server: r == serverRole}
			var got []byte
			for len(got) < written {
				f, err := readRawFrame(br)
				if err == nil {
					err = m.frame(f)
				}
				if err != nil {
					t.Fatalf("the peer got %d of the %d bytes Write reported written: %v", len(got), written, err)
				}
				for _, msg := range m.messages {
					got = append(got, msg...)
				}
				m.messages = m.messages[:0]
			}
			if !bytes.Equal(got, streamBytes(0, written)) {
				t.Fatalf("the peer got the %d bytes wrong", written)
			}
		})
	}
}
