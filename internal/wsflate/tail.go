package wsflate

import "io"

// syncTail is the empty stored block a sync flush ends with; RFC 7692
// section 7.2.1 removes it from each message and section 7.2.2 puts it
// back before inflating.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// tailWriter passes bytes on to w but always holds back the last four it
// was given, so that the sync flush marker can be dropped at the end of a
// message without knowing in advance where the message ends.
type tailWriter struct {
	w    io.Writer
	held [4]byte
	n    int // bytes in held
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.n+len(p) <= len(t.held) {
		t.n += copy(t.held[t.n:], p)
		return len(p), nil
	}
	if len(p) >= len(t.held) {
		if err := t.emit(t.held[:t.n]); err != nil {
			return 0, err
		}
		cut := len(p) - len(t.held)
		if err := t.emit(p[:cut]); err != nil {
			return 0, err
		}
		t.n = copy(t.held[:], p[cut:])
		return len(p), nil
	}
	// Emit just enough of the held bytes to keep four after appending p.
	k := t.n + len(p) - len(t.held)
	if err := t.emit(t.held[:k]); err != nil {
		return 0, err
	}
	copy(t.held[:], t.held[k:t.n])
	copy(t.held[t.n-k:], p)
	t.n = len(t.held)
	return len(p), nil
}

func (t *tailWriter) emit(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := t.w.Write(p)
	return err
}

// dropSyncTail forgets the held bytes, which must be the sync flush marker.
func (t *tailWriter) dropSyncTail() bool {
	ok := t.n == len(t.held) && t.held == syncTail
	t.n = 0
	return ok
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ buf []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.buf = append(a.buf, p...)
	return len(p), nil
}
