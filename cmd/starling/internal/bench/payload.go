package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/starling-ws/starling"
)

// Each message carries its sequence number in its first bytes (8 bytes big
// endian for binary, 16 hex digits for text, when the message is that
// long), so that the check of an echo catches loss, duplication and
// reordering, not only a wrong length.

func seqWidth(typ starling.MessageType) int {
	if typ == starling.MessageText {
		return 16
	}
	return 8
}

// fill sets p to a recognisable pattern, printable so text stays UTF-8.
func fill(p []byte, _ starling.MessageType) {
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
}

// stamp writes seq into the head of p.
func stamp(p []byte, typ starling.MessageType, seq uint64) {
	w := seqWidth(typ)
	if len(p) < w {
		return
	}
	if typ == starling.MessageText {
		s := strconv.FormatUint(seq, 16)
		copy(p[:w], bytes.Repeat([]byte{'0'}, w-len(s)))
		copy(p[w-len(s):w], s)
		return
	}
	binary.BigEndian.PutUint64(p, seq)
}

// check verifies that an echo is the seq-th message sent, without
// allocating, so that checking does not weigh on the measurement.
func check(typ starling.MessageType, p []byte, cfg Config, seq uint64) error {
	if typ != cfg.Type || len(p) != cfg.Size {
		return fmt.Errorf("echo mismatch: got a %v message of %d bytes, sent %v of %d", typ, len(p), cfg.Type, cfg.Size)
	}
	start := 0
	if w := seqWidth(typ); len(p) >= w {
		var head [16]byte
		for i := range w {
			head[i] = 'a' + byte(i%26)
		}
		stamp(head[:w], typ, seq)
		if !bytes.Equal(p[:w], head[:w]) {
			return fmt.Errorf("echo mismatch: message %d came back out of order or altered", seq)
		}
		start = w
	}
	for i := start; i < len(p); i++ {
		if p[i] != 'a'+byte(i%26) {
			return fmt.Errorf("echo mismatch: message %d altered at byte %d", seq, i)
		}
	}
	return nil
}
