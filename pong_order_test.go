package starling

import (
	"fmt"
	"testing"
)

// TestPongBeforeCloseEcho sends a ping and a close frame back to back: the
// pong, which a goroutine of its own writes, must still leave before the
// echoed close frame (RFC 6455 section 5.5.2: a ping received before the
// close frame is answered), and nothing after it.
func TestPongBeforeCloseEcho(t *testing.T) {
	for _, r := range bothRoles {
		for _, tr := range bothTransports {
			t.Run(fmt.Sprintf("%s/%s", r, tr), func(t *testing.T) {
				for range 20 {
					c, p := newPair(t, r, tr)
					in := readInBackground(c)
					if err := p.send(rawFrame{fin: true, op: 0x9, payload: []byte("ping")}); err != nil {
						t.Fatal(err)
					}
					if err := p.sendClose(1000, ""); err != nil {
						t.Fatal(err)
					}
					f, err := p.next()
					if err != nil || f.op != 0xA || string(f.payload) != "ping" {
						t.Fatalf("got op %#x %q, %v; want the pong", f.op, f.payload, err)
					}
					p.expectClose(StatusNormalClosure)
					in.wait(t)
					c.CloseNow()
				}
			})
		}
	}
}
