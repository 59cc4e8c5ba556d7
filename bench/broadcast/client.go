package broadcast

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/starling-ws/starling/bench/load"
)

// Client holds many connections to a broadcast server, one reading
// goroutine each, and checks every message they receive against the one
// expected. It is built on gobwas/ws's low-level API, the same client
// for every server.
type Client struct {
	conns   []net.Conn
	round   atomic.Pointer[Round]
	closing atomic.Bool
	wg      sync.WaitGroup

	failOnce sync.Once
	failed   chan struct{} // closed on the first failure outside a round
	err      error
}

// Round is one expected broadcast.
type Round struct {
	want []byte
	left atomic.Int64
	bad  atomic.Int64
	zip  atomic.Int64 // messages that arrived compressed
	wire atomic.Int64 // payload bytes received, as sent (compressed or not)
	// zipped is a compressed payload known to inflate to want.
	zipped atomic.Pointer[[]byte]
	done   chan struct{} // closed when every connection has received it
	last   time.Time     // when the last connection received it, set before done closes
}

// Dial opens n connections to ws://addr/, a few at a time, spread over the
// local addresses sources (none: any), and offers permessage-deflate
// without context takeover (RFC 7692 section 7.1.1) when compress is set,
// failing if the server does not accept it.
func Dial(ctx context.Context, addr string, n int, compress bool, sources []net.IP) (*Client, error) {
	cl := &Client{conns: make([]net.Conn, n), failed: make(chan struct{})}
	readers := make([]*bufio.Reader, n)
	err := load.DialEach(n, sources, func(i int, ip net.IP) (err error) {
		cl.conns[i], readers[i], err = dialOne(ctx, addr, ip, compress)
		return err
	})
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("broadcast: dial: %w", err)
	}
	for _, br := range readers {
		cl.wg.Add(1)
		go cl.read(br)
	}
	return cl, nil
}

// deflateOffer is the permessage-deflate offer every client makes.
var deflateOffer = wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}

func dialOne(ctx context.Context, addr string, local net.IP, compress bool) (net.Conn, *bufio.Reader, error) {
	d := ws.Dialer{NetDial: load.NetDialFrom(local)}
	if compress {
		d.Extensions = []httphead.Option{deflateOffer.Option()}
	}
	nc, br, hs, err := d.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, nil, err
	}
	if compress && !acceptsDeflate(hs.Extensions) {
		nc.Close()
		return nil, nil, errors.New("broadcast: server did not accept permessage-deflate")
	}
	if br == nil {
		return nc, bufio.NewReaderSize(nc, 4<<10), nil
	}
	// Keep what the handshake read ahead.
	return nc, bufio.NewReaderSize(io.MultiReader(br, nc), 4<<10), nil
}

func acceptsDeflate(exts []httphead.Option) bool {
	for _, e := range exts {
		if bytes.Equal(e.Name, wsflate.ExtensionNameBytes) {
			return true
		}
	}
	return false
}

// Expect announces the next broadcast: every connection must receive
// want, and nothing else, until the next Expect.
func (cl *Client) Expect(want []byte) *Round {
	r := &Round{want: want, done: make(chan struct{})}
	r.left.Store(int64(len(cl.conns)))
	cl.round.Store(r)
	return r
}

// Wait waits until every connection has received r's message and returns
// when the last did. It fails if any received something else.
func (cl *Client) Wait(ctx context.Context, r *Round) (time.Time, error) {
	select {
	case <-r.done:
	case <-cl.failed:
		return time.Time{}, cl.err
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("broadcast: %d of %d connections still waiting: %w", r.left.Load(), len(cl.conns), ctx.Err())
	}
	if bad := r.bad.Load(); bad > 0 {
		return r.last, fmt.Errorf("broadcast: %d of %d connections received a different message", bad, len(cl.conns))
	}
	return r.last, nil
}

// Compressed returns how many connections received r's message
// compressed.
func (r *Round) Compressed() int { return int(r.zip.Load()) }

// Wire returns the payload bytes received over all connections, as sent:
// compressed or not.
func (r *Round) Wire() int64 { return r.wire.Load() }

func (cl *Client) fail(err error) {
	cl.failOnce.Do(func() {
		cl.err = err
		close(cl.failed)
	})
}

// read receives messages on one connection until it closes.
func (cl *Client) read(br *bufio.Reader) {
	defer cl.wg.Done()
	var buf []byte
	for {
		p, compressed, err := readMessage(br, buf[:0])
		if err != nil {
			if !cl.closing.Load() {
				cl.fail(fmt.Errorf("broadcast: read: %w", err))
			}
			return
		}
		buf = p
		cl.deliver(p, compressed)
	}
}

// deliver checks one received message against the expected one.
func (cl *Client) deliver(p []byte, compressed bool) {
	r := cl.round.Load()
	if r == nil {
		cl.fail(errors.New("broadcast: a message arrived before any was expected"))
		return
	}
	if compressed {
		r.zip.Add(1)
	}
	r.wire.Add(int64(len(p)))
	if !r.intact(p, compressed) {
		r.bad.Add(1)
	}
	if r.left.Add(-1) == 0 {
		r.last = time.Now()
		close(r.done)
	}
}

// intact reports whether p, as received, carries r's message. A
// compressed payload equal to one already inflated and checked is not
// inflated again: one client process inflating every copy of a broadcast
// would otherwise set the wall time, whereas each real receiver inflates
// only its own.
func (r *Round) intact(p []byte, compressed bool) bool {
	if !compressed {
		return bytes.Equal(r.want, p)
	}
	if z := r.zipped.Load(); z != nil && bytes.Equal(*z, p) {
		return true
	}
	if !inflatesTo(r.want, p) {
		return false
	}
	z := bytes.Clone(p)
	r.zipped.CompareAndSwap(nil, &z)
	return true
}

// readMessage reads the frames of one data message, appending their
// payloads to dst, and reports whether it is compressed (RSV1 on its first
// frame, RFC 7692 section 6). Servers send unmasked frames (RFC 6455
// section 5.1).
func readMessage(br *bufio.Reader, dst []byte) ([]byte, bool, error) {
	var compressed, started bool
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return dst, false, err
		}
		switch {
		case h.OpCode == ws.OpClose:
			return dst, false, io.EOF
		case h.OpCode.IsControl():
			// A control frame may come between fragments (RFC 6455
			// section 5.4).
			if _, err := br.Discard(int(h.Length)); err != nil {
				return dst, false, err
			}
			continue
		case h.Masked || started != (h.OpCode == ws.OpContinuation):
			return dst, false, fmt.Errorf("unexpected frame: op %d, masked %v", h.OpCode, h.Masked)
		}
		if !started {
			compressed, started = h.Rsv1(), true
		}
		n := len(dst)
		dst = append(dst, make([]byte, h.Length)...)
		if _, err := io.ReadFull(br, dst[n:]); err != nil {
			return dst, false, err
		}
		if h.Fin {
			return dst, compressed, nil
		}
	}
}

// Conns returns the number of connections.
func (cl *Client) Conns() int { return len(cl.conns) }

// Close closes every connection, without a close handshake, and waits for
// the reading goroutines to end.
func (cl *Client) Close() error {
	cl.closing.Store(true)
	for _, nc := range cl.conns {
		if nc != nil {
			nc.Close()
		}
	}
	cl.wg.Wait()
	return nil
}
