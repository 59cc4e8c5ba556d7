package starling

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestNetConnResumesAfterTimeout checks that NetConn's stream survives a
// read deadline that passes partway through a message, whether the read
// waits for the rest of a frame's payload or for the next fragment, and
// that text split there, inside a character, still checks as UTF-8.
func TestNetConnResumesAfterTimeout(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		nc := NetConn(context.Background(), c, MessageText)
		key := [4]byte{9, 8, 7, 6}
		whole := encodeFrame(rawFrame{fin: false, op: 0x1, payload: []byte("caf\xc3\xa9 ")}, p.mask, key)
		parts := [][]byte{
			whole[:len(whole)-2], // "caf" and half of "é"
			whole[len(whole)-2:], // the rest of "é", and " "
			encodeFrame(rawFrame{fin: true, op: 0x0, payload: []byte("au lait")}, p.mask, key),
		}
		want := []string{"caf\xc3", "\xa9 ", "au lait"}
		buf := make([]byte, 64)
		for i, part := range parts {
			nc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
			if _, err := nc.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("part %d: read before it was sent = %v, want a timeout", i, err)
			}
			nc.SetReadDeadline(time.Time{})
			go p.write(part) // net.Pipe waits for the reader
			got := ""
			for len(got) < len(want[i]) {
				n, err := nc.Read(buf)
				if err != nil {
					t.Fatalf("part %d: read after the timeout: %v", i, err)
				}
				got += string(buf[:n])
			}
			if got != want[i] {
				t.Fatalf("part %d: read %q, want %q", i, got, want[i])
			}
		}
		// The stream is whole: a write and its echo still work.
		go p.send(rawFrame{fin: true, op: 0x1, payload: []byte("!")})
		if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "!" {
			t.Fatalf("read after the message: %q, %v", buf[:n], err)
		}
	})
}
