package echo

import (
	"errors"
	"io"
)

// appendAll reads r to its end, appending to dst, so that a server that
// passes the same buffer for every message stops allocating once it is
// large enough. The gorilla and coder servers use it with their streaming
// readers; the gobwas server reuses a buffer of its own.
func appendAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
