package echo

import (
	"context"
	"encoding/binary"
	"io"
	"net"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/frame"
)

func init() {
	register("floor", serveFloor)
}

// serveFloor is not a library: it is the least work a goroutine-per-
// connection echo can do, the yardstick for "what the machine allows". It
// answers the handshake with Starling's ReadHandshake, then reads the
// socket into one 64 KiB buffer and, for every whole frame in it, unmasks
// the payload in place and appends the unmasked frame to one reply that
// is written once per read; a frame larger than the buffer is read
// straight into one of its size. It masks with Starling's own masking, the
// fastest measured (bench/mask). It checks nothing (no UTF-8, no limits, no
// control frames but close) and keeps its buffers for the connection's
// life, so a library can hardly be cheaper per message; a ratio near 1× to
// the floor means the library adds almost nothing to the system calls.
// It reads and writes the socket as Starling does (floorSock): through
// the raw connection, with system calls the scheduler does not see.
func serveFloor(ctx context.Context, addr string, ready func(net.Addr)) error {
	return serveRaw(ctx, addr, ready, func(nc net.Conn) {
		if floorAccept(ctx, nc) {
			go floorEcho(nc)
		}
	})
}

// floorAccept answers the handshake on nc with Starling's ReadHandshake
// and reports whether it succeeded. The load generator sends nothing
// before the 101 response, so no frame bytes are buffered in the
// handshake's reader: the socket itself is read from then on.
func floorAccept(ctx context.Context, nc net.Conn) bool {
	hs, err := starling.ReadHandshake(ctx, nc)
	if err != nil {
		return false
	}
	_, err = hs.Accept(&starling.AcceptOptions{InsecureSkipOriginCheck: true})
	return err == nil
}

// floorEcho echoes frames on nc until the peer closes.
func floorEcho(nc net.Conn) {
	defer nc.Close()
	s, err := newFloorSock(nc)
	if err != nil {
		return
	}
	in := make([]byte, 64<<10)
	var r floorReply
	var big []byte // payload of a frame larger than in
	have := 0
	for {
		n, err := s.Read(in[have:])
		if err != nil {
			return
		}
		have += n
		used := 0
		for {
			frame, ok := r.add(in[used:have])
			if !ok {
				break
			}
			if in[used]&0x0f == 0x8 { // close
				s.Writev([][]byte{{0x88, 0}})
				return
			}
			used += frame
		}
		if err := r.send(s); err != nil {
			return
		}
		rest := in[used:have]
		if hdr, size, ok := floorHeader(rest); ok && len(rest) >= hdr+4 && hdr+4+size > len(in) {
			// Too large for in: read the rest of its payload straight
			// into a buffer of its size, as a library does (once the
			// masking key is in: until then, read on into in). It
			// starts floorSkew bytes in, as Starling's large payloads
			// do (largePayloadSkew in read.go), so that the kernel's
			// copy of it behind the reply's 10-byte header misses AMD
			// Zen's 4K-aliasing slow path.
			if len(big) < floorSkew+size {
				big = make([]byte, floorSkew+size)
			}
			p := big[floorSkew : floorSkew+size]
			got := copy(p, rest[hdr+4:])
			if _, err := io.ReadFull(s, p[got:]); err != nil {
				return
			}
			frame.Mask([4]byte(rest[hdr:hdr+4]), 0, p)
			bufs := [][]byte{append([]byte{rest[0], rest[1] & 0x7f}, rest[2:hdr]...), p}
			if err := s.Writev(bufs); err != nil {
				return
			}
			rest = nil
		}
		have = copy(in, rest)
	}
}

// floorSkew is where floorEcho puts a large payload in its buffer.
const floorSkew = 10

// floorHeader decodes the header of the masked frame at the start of b:
// its length before the masking key, and the payload's size.
func floorHeader(b []byte) (hdr, size int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	size, hdr = int(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, 0, false
		}
		size, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, 0, false
		}
		size, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	return hdr, size, true
}

// floorReply gathers the replies to one read: headers and small payloads
// are copied into out, payloads of 8 KiB and more are sent from where
// they were read, with writev.
type floorReply struct {
	out  []byte
	mark int // out[:mark] is already in bufs
	bufs [][]byte
}

// add decodes the masked client frame at the start of b, unmasks its
// payload in place and adds the unmasked frame to the reply. It reports
// the frame's length in b, or ok false if b does not hold a whole frame.
func (r *floorReply) add(b []byte) (n int, ok bool) {
	hdr, size, ok := floorHeader(b)
	if !ok || len(b) < hdr+4+size {
		return 0, false
	}
	p := b[hdr+4 : hdr+4+size]
	frame.Mask([4]byte(b[hdr:hdr+4]), 0, p)
	r.out = append(r.out, b[0], b[1]&0x7f)
	r.out = append(r.out, b[2:hdr]...)
	if size < 8<<10 {
		r.out = append(r.out, p...)
	} else {
		r.cut()
		r.bufs = append(r.bufs, p)
	}
	return hdr + 4 + size, true
}

// cut moves what out gathered since the last cut into bufs. Appending to
// out later may move it, but the bytes already cut stay where they are.
func (r *floorReply) cut() {
	if len(r.out) > r.mark {
		r.bufs = append(r.bufs, r.out[r.mark:])
		r.mark = len(r.out)
	}
}

// send writes the reply in one system call and empties it.
func (r *floorReply) send(s *floorSock) error {
	r.cut()
	var err error
	if len(r.bufs) > 0 {
		err = s.Writev(r.bufs)
	}
	r.out, r.mark, r.bufs = r.out[:0], 0, r.bufs[:0]
	return err
}
