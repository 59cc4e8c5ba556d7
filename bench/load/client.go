// Package load is the load generator shared by every echo server: one
// client implementation, so that differences measured are the servers'.
//
// The client is gobwas/ws's low-level API (ws.Dialer for the handshake,
// ws.ReadHeader for replies) with a frame that is encoded and masked once
// per connection and then written again and again, so the client spends
// no time masking or allocating per message.
package load

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"

	"github.com/gobwas/ws"
)

// Conn is one client connection.
type Conn struct {
	nc    net.Conn
	br    *bufio.Reader
	frame []byte // a complete masked binary frame, sent as is
	size  int
}

// NetDialFrom returns a dial function for ws.Dialer that connects from the
// local address local (nil for any).
func NetDialFrom(local net.IP) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{}
		if local != nil {
			nd.LocalAddr = &net.TCPAddr{IP: local}
		}
		return nd.DialContext(ctx, network, addr)
	}
}

// Dial opens a WebSocket connection to ws://addr/ from the local address
// local (nil for any) and prepares a binary message of size bytes.
func Dial(ctx context.Context, addr string, local net.IP, size int) (*Conn, error) {
	d := ws.Dialer{NetDial: NetDialFrom(local)}
	nc, br, _, err := d.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 64<<10)
	} else {
		// Keep what the handshake read ahead, then read through our own
		// larger buffer.
		br = bufio.NewReaderSize(io.MultiReader(br, nc), 64<<10)
	}
	f, err := maskedFrame(size)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &Conn{nc: nc, br: br, frame: f, size: size}, nil
}

// maskedFrame returns a binary frame with a payload of size bytes of a
// repeating pattern, masked with a random key (RFC 6455 section 5.3).
func maskedFrame(size int) ([]byte, error) {
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(size), Masked: true}
	if _, err := rand.Read(h.Mask[:]); err != nil {
		return nil, err
	}
	hs := ws.HeaderSize(h)
	b := make([]byte, hs+size)
	if err := ws.WriteHeaderBuffer(sliceWriter(b[:hs]), h, make([]byte, ws.MaxHeaderSize)); err != nil {
		return nil, err
	}
	p := b[hs:]
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	ws.Cipher(p, h.Mask, 0)
	return b, nil
}

// Payload returns the unmasked payload that Send sends.
func Payload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

type sliceWriter []byte

func (s sliceWriter) Write(p []byte) (int, error) { return copy(s, p), nil }

// Send writes the prepared message once.
func (c *Conn) Send() error {
	_, err := c.nc.Write(c.frame)
	return err
}

// Receive reads one echoed message and discards its payload, after
// checking that it is a binary message of the size sent. Some servers
// (nbio) fragment large messages, so the reply may span several frames.
func (c *Conn) Receive() error {
	return c.receive(func(n int64) error {
		_, err := c.br.Discard(int(n))
		return err
	})
}

// ReceiveInto reads one echoed message into p, which must have room for
// it, and returns the payload.
func (c *Conn) ReceiveInto(p []byte) ([]byte, error) {
	got := 0
	err := c.receive(func(n int64) error {
		_, err := io.ReadFull(c.br, p[got:got+int(n)])
		got += int(n)
		return err
	})
	return p[:got], err
}

// receive reads the frames of one message, calling payload with the
// length of each frame's payload, which it must consume.
func (c *Conn) receive(payload func(n int64) error) error {
	var total int64
	for first := true; ; first = false {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return err
		}
		want := ws.OpContinuation
		if first {
			want = ws.OpBinary
		}
		total += h.Length
		if h.OpCode != want || h.Masked || total > int64(c.size) || h.Fin && total != int64(c.size) {
			return fmt.Errorf("load: unexpected reply frame: op %d fin %v masked %v length %d (want a binary message of %d bytes)",
				h.OpCode, h.Fin, h.Masked, h.Length, c.size)
		}
		if err := payload(h.Length); err != nil {
			return err
		}
		if h.Fin {
			return nil
		}
	}
}

// Close closes the TCP connection without a close handshake.
func (c *Conn) Close() error { return c.nc.Close() }
