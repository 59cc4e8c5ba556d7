package starling

import (
	"context"
	"encoding/binary"
	"testing"
)

// TestUnlimitedReadOfBogusLength sends, to a Conn with no read limit, the
// header of a frame claiming 2^62 bytes and then ends the stream. Only the
// bytes that arrive may cost memory: a claim is not a message, and the read
// must end with 1006 (RFC 6455 section 7.1.5), not a panic.
func TestUnlimitedReadOfBogusLength(t *testing.T) {
	for _, api := range []string{"Read", "ReadSlice"} {
		t.Run(api, func(t *testing.T) {
			c, p := newPair(t, serverRole, pipeTransport)
			c.SetReadLimit(-1)
			header := binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, 1<<62)
			go func() {
				p.write(append(header, 1, 2, 3, 4, 'a', 'b'))
				p.nc.Close()
			}()
			read := c.Read
			if api == "ReadSlice" {
				read = c.ReadSlice
			}
			_, _, err := read(context.Background())
			if CloseStatus(err) != StatusAbnormalClosure {
				t.Fatalf("%s: got %v, want status 1006", api, err)
			}
		})
	}
}
