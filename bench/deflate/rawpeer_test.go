package deflate

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// rawClient is the minimal WebSocket client every library's server is
// measured against: it negotiates permessage-deflate and then writes
// frames prepared in advance, or reads and discards, so that its cost per
// message is small and the same for all.
type rawClient struct {
	nc net.Conn
	br *bufio.Reader
}

// offers are the Sec-WebSocket-Extensions the raw client sends per mode
// (RFC 7692 section 7.1).
var offers = map[mode]string{
	takeover:   "permessage-deflate; client_max_window_bits",
	noTakeover: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
}

// dialRaw opens a connection to addr offering mode m, and fails unless
// the server agrees to exactly that: permessage-deflate, context takeover
// kept or given up on both sides as asked, and full 32 KiB windows.
func dialRaw(addr string, m mode) (*rawClient, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if m != off {
		req += "Sec-WebSocket-Extensions: " + offers[m] + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	if err := checkNegotiated(resp.Header, m); err != nil {
		nc.Close()
		return nil, err
	}
	return &rawClient{nc: nc, br: br}, nil
}

// checkNegotiated checks that the response header h agreed to mode m.
func checkNegotiated(h http.Header, m mode) error {
	ext := strings.Join(h.Values("Sec-WebSocket-Extensions"), ", ")
	if m == off {
		if ext != "" {
			return fmt.Errorf("extensions %q negotiated with compression off", ext)
		}
		return nil
	}
	params := map[string]bool{}
	for i, p := range strings.Split(ext, ";") {
		p = strings.TrimSpace(p)
		if i == 0 && p != "permessage-deflate" {
			return fmt.Errorf("permessage-deflate not negotiated: %q", ext)
		}
		name, value, _ := strings.Cut(p, "=")
		if strings.HasSuffix(name, "_max_window_bits") && value != "" && value != "15" {
			return fmt.Errorf("window smaller than 32 KiB negotiated: %q", ext)
		}
		params[name] = true
	}
	noContext := m == noTakeover
	if params["server_no_context_takeover"] != noContext || params["client_no_context_takeover"] != noContext {
		return fmt.Errorf("mode %v asked, got %q", m, ext)
	}
	return nil
}

// readMessage reads the server's next data message, unfragmented, and
// reports whether it came compressed (RSV1 on its first frame).
func (c *rawClient) readMessage() (compressed bool, p []byte, err error) {
	for first := true; ; first = false {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return false, nil, err
		}
		if first {
			compressed = h[0]&0x40 != 0
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			_, err = io.ReadFull(c.br, e[:])
			n = int64(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			_, err = io.ReadFull(c.br, e[:])
			n = int64(binary.BigEndian.Uint64(e[:]))
		}
		if err != nil {
			return false, nil, err
		}
		start := len(p)
		p = append(p, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, p[start:]); err != nil {
			return false, nil, err
		}
		if h[0]&0x80 != 0 {
			return compressed, p, nil
		}
	}
}

// discard reads everything the server sends until the connection ends,
// and returns the number of bytes.
func (c *rawClient) discard() int64 {
	n, _ := io.CopyBuffer(io.Discard, c.br, make([]byte, 64<<10))
	return n
}

var maskKey = [4]byte{0x11, 0x22, 0x33, 0x44}

// appendFrame appends p as one masked binary frame (RFC 6455 section
// 5.2), with RSV1 set if p is compressed (RFC 7692 section 6).
func appendFrame(dst, p []byte, compressed bool) []byte {
	b0 := byte(0x82)
	if compressed {
		b0 |= 0x40
	}
	switch n := len(p); {
	case n < 126:
		dst = append(dst, b0, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, b0, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, maskKey[:]...)
	start := len(dst)
	dst = append(dst, p...)
	for i := range p {
		dst[start+i] ^= maskKey[i&3]
	}
	return dst
}

// deflater compresses messages as RFC 7692 section 7.2.1 says: each one
// flushed, with the final 00 00 ff ff removed; with context takeover the
// window runs on from message to message.
type deflater struct {
	fw       *flate.Writer
	buf      bytes.Buffer
	takeover bool
}

func newDeflater(takeover bool) *deflater {
	d := &deflater{takeover: takeover}
	d.fw, _ = flate.NewWriter(&d.buf, flate.BestSpeed)
	return d
}

// compress returns p compressed, in a new slice.
func (d *deflater) compress(p []byte) []byte {
	d.buf.Reset()
	if !d.takeover {
		d.fw.Reset(&d.buf)
	}
	d.fw.Write(p)
	d.fw.Flush()
	return bytes.Clone(bytes.TrimSuffix(d.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

// inflate decompresses p, the first message of a stream (RFC 7692
// section 7.2.2), followed by an empty final block to end it cleanly.
func inflate(p []byte) ([]byte, error) {
	tail := []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}
	return io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail))))
}

// receiveStream returns the frames that carry msgs to a server: warm, to
// send once, then cycle, to send over and over. Without context takeover
// every message is compressed alone and warm is empty. With it, warm is
// the first pass through msgs and cycle the second: a pass is at least
// twice the 32 KiB window (see messages), so the window at the start of
// every pass after the first holds the same bytes, and the second pass's
// frames decompress correctly however often they are repeated.
func receiveStream(msgs [][]byte, m mode) (warm, cycle []byte) {
	d := newDeflater(m == takeover)
	if m == takeover {
		for _, p := range msgs {
			warm = appendFrame(warm, d.compress(p), true)
		}
	}
	for _, p := range msgs {
		cycle = appendFrame(cycle, d.compress(p), true)
	}
	return warm, cycle
}

// send writes warm once and then cycle until the connection fails.
func (c *rawClient) send(warm, cycle []byte) {
	if _, err := c.nc.Write(warm); err != nil {
		return
	}
	for {
		if _, err := c.nc.Write(cycle); err != nil {
			return
		}
	}
}
