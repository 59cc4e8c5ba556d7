package echo

import (
	"context"
	"encoding/binary"
	"net"

	"github.com/starling-ws/starling"
)

func init() {
	register("floor", serveFloor)
}

// serveFloor is not a library: it is the least work a goroutine-per-
// connection echo can do, the yardstick for "what the machine allows". It
// answers the handshake with Starling's ReadHandshake, then reads the
// socket into one 64 KiB buffer and, for every whole frame in it, unmasks
// the payload in place and appends the unmasked frame to one reply that
// is written once per read. It checks nothing (no UTF-8, no limits, no
// control frames but close) and keeps its buffers for the connection's
// life, so no real library can be cheaper per message; a ratio near 1× to
// the floor means the library adds almost nothing to the system calls.
func serveFloor(ctx context.Context, addr string, ready func(net.Addr)) error {
	opts := &starling.AcceptOptions{InsecureSkipOriginCheck: true}
	return serveRaw(ctx, addr, ready, func(nc net.Conn) {
		hs, err := starling.ReadHandshake(ctx, nc)
		if err != nil {
			return
		}
		if _, err := hs.Accept(opts); err != nil {
			return
		}
		// The load generator sends nothing before the 101 response, so
		// no frame bytes are buffered in the handshake's reader: the
		// socket itself is read from here on.
		go floorEcho(nc)
	})
}

// floorEcho echoes frames on nc until the peer closes.
func floorEcho(nc net.Conn) {
	defer nc.Close()
	in := make([]byte, 64<<10)
	var r floorReply
	have := 0
	for {
		n, err := nc.Read(in[have:])
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
				nc.Write([]byte{0x88, 0})
				return
			}
			used += frame
		}
		if err := r.send(nc); err != nil {
			return
		}
		have = copy(in, in[used:have])
		if have == len(in) { // a frame larger than the buffer
			in = append(in, make([]byte, len(in))...)
		}
	}
}

// floorReply gathers the replies to one read: headers and small payloads
// are copied into out, payloads of 8 KiB and more are sent from where
// they were read, with writev.
type floorReply struct {
	out  []byte
	mark int // out[:mark] is already in bufs
	bufs net.Buffers
}

// add decodes the masked client frame at the start of b, unmasks its
// payload in place and adds the unmasked frame to the reply. It reports
// the frame's length in b, or ok false if b does not hold a whole frame.
func (r *floorReply) add(b []byte) (n int, ok bool) {
	if len(b) < 2 {
		return 0, false
	}
	size, hdr := int(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, false
		}
		size, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, false
		}
		size, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) < hdr+4+size {
		return 0, false
	}
	p := b[hdr+4 : hdr+4+size]
	floorMask(p, b[hdr:hdr+4])
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
func (r *floorReply) send(nc net.Conn) error {
	r.cut()
	var err error
	switch len(r.bufs) {
	case 0:
	case 1:
		_, err = nc.Write(r.bufs[0])
	default:
		bufs := r.bufs // WriteTo consumes its receiver
		_, err = bufs.WriteTo(nc)
	}
	r.out, r.mark, r.bufs = r.out[:0], 0, r.bufs[:0]
	return err
}

// floorMask XORs p with key eight bytes at a time.
func floorMask(p, key []byte) {
	k := uint64(binary.LittleEndian.Uint32(key))
	k |= k << 32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}
