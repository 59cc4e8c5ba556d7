package starling

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// batchedNetConn returns a server Conn over loopback TCP whose peer has
// pipelined two binary messages, the NetConn on it after it has read the
// first (so that its writes are gathered for a batch), and the peer's end,
// which nothing reads yet. The server's socket buffer is small, so that
// writes soon have to wait for the peer.
func batchedNetConn(t *testing.T) (*Conn, net.Conn, net.Conn) {
	t.Helper()
	peer, server := connPair(t, tcpTransport)
	t.Cleanup(func() { peer.Close(); server.Close() })
	_ = server.(*net.TCPConn).SetWriteBuffer(4 << 10)
	c := newConn(connConfig{rwc: server})
	t.Cleanup(func() { c.CloseNow() })
	var b []byte
	for _, s := range []string{"a", "b"} {
		b = append(b, encodeFrame(rawFrame{fin: true, op: 0x2, payload: []byte(s)}, true, [4]byte{1, 2, 3, 4})...)
	}
	if _, err := peer.Write(b); err != nil {
		t.Fatal(err)
	}
	nc := NetConn(context.Background(), c, MessageBinary)
	if _, err := io.ReadFull(nc, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for !c.flags.has(flagReadAhead) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !c.flags.has(flagReadAhead) {
		t.Fatal("the server is not ahead of its input")
	}
	return c, nc, peer
}

// streamBytes returns n bytes of a pattern that does not repeat within a
// frame, starting at offset off of the stream, so that a lost or
// repeated chunk shows.
func streamBytes(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		k := off + i
		b[i] = byte(k ^ k>>8 ^ k>>16)
	}
	return b
}

// writeUntilCut writes nc's stream from offset written in pieces of size
// until the write deadline, which the caller has set, cuts a Write short
// (the peer reads nothing), and returns the new offset.
func writeUntilCut(t *testing.T, nc net.Conn, written, size int) int {
	t.Helper()
	for {
		n, err := nc.Write(streamBytes(written, size))
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Write: %v", err)
			}
			return written
		}
		if written > 64<<20 {
			t.Fatal("the peer that reads nothing took 64 MiB")
		}
	}
}

// readStreamUntilClose reads frames from the server until its close
// frame, checking each is a whole unmasked binary message (RFC 6455
// section 5.1), and returns their payloads, concatenated.
func readStreamUntilClose(t *testing.T, peer net.Conn) []byte {
	t.Helper()
	_ = peer.SetReadDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(peer)
	var got []byte
	for {
		f, err := readRawFrame(br)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		if f.masked || !f.fin {
			t.Fatalf("frame with mask %v, fin %v", f.masked, f.fin)
		}
		switch f.op {
		case 0x2:
			got = append(got, f.payload...)
		case 0x8:
			return got
		default:
			t.Fatalf("unexpected opcode %#x", f.op)
		}
	}
}

// TestNetConnWriteCutInBatchKeepsStream has a write deadline cut short
// NetConn writes that a server gathers for a batch: what Write reports
// written must all arrive, in order, and nothing else.
func TestNetConnWriteCutInBatchKeepsStream(t *testing.T) {
	for _, size := range []int{1, 1000, 4000, 30 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c, nc, peer := batchedNetConn(t)
			written := 0
			// The second round's first frames are gathered while the rest
			// of one the first round cut short waits to leave.
			for range 3 {
				_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				written = writeUntilCut(t, nc, written, size)
			}
			_ = nc.SetWriteDeadline(time.Time{})
			closed := make(chan error, 1)
			go func() { closed <- c.Close(StatusNormalClosure, "") }()
			got := readStreamUntilClose(t, peer)
			if want := streamBytes(0, written); !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("the peer got %d bytes, Write reported %d; they differ from byte %d", len(got), written, i)
			}
			peer.Write(encodeFrame(rawFrame{fin: true, op: 0x8, payload: []byte{3, 232}}, true, [4]byte{}))
			select {
			case <-closed:
			case <-time.After(testTimeout):
				t.Fatal("Close did not return")
			}
		})
	}
}

// TestNetConnWriteModel has NetConn writes of random sizes, under write
// deadlines that keep cutting them short, to a peer that reads in small
// pieces with pauses, while a server's reader is ahead of pipelined input
// (so that its writes are batched): the peer must get exactly the bytes
// Write reported written, in order, in well-formed frames.
func TestNetConnWriteModel(t *testing.T) {
	for _, r := range bothRoles {
		t.Run(string(r), func(t *testing.T) {
			c, peer := modelPair(t, r, false, modelSocket)
			nc := NetConn(context.Background(), c, MessageBinary)
			go func() {
				// A slow reader stays ahead of its input for long.
				for {
					if _, err := nc.Read(make([]byte, 1)); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			go func() {
				var b []byte
				for i := range 100 {
					b = append(b, encodeFrame(rawFrame{fin: true, op: 0x2, payload: []byte{byte(i)}}, r == serverRole, [4]byte{5, 6, 7, 8})...)
				}
				for range 5 {
					if _, err := peer.Write(b); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()

			type result struct {
				got []byte
				err error
			}
			read := make(chan result, 1)
			go func() {
				m := &modelPeer{server: r == serverRole}
				br := bufio.NewReader(&slowReader{r: peer, rng: mathrand.New(mathrand.NewPCG(7, 7)), stalls: true})
				var got []byte
				for {
					f, err := readRawFrame(br)
					if err == nil && f.op == 0x8 {
						read <- result{got: got}
						return
					}
					if err == nil {
						err = m.frame(f)
					}
					if err != nil {
						read <- result{got, err}
						return
					}
					if len(m.messages) > 0 {
						got = append(got, m.messages[0]...)
						m.messages = m.messages[:0]
					}
				}
			}()
			_ = peer.SetReadDeadline(time.Now().Add(4 * testTimeout))

			rng := mathrand.New(mathrand.NewPCG(1, uint64(len(r))))
			written := 0
			for range 400 {
				if rng.IntN(4) == 0 {
					_ = nc.SetWriteDeadline(time.Now().Add(time.Duration(rng.IntN(5000)) * time.Microsecond))
				} else {
					_ = nc.SetWriteDeadline(time.Time{})
				}
				size := []int{1, 125, 126, 1000, 4000, 30 << 10, 65535, 65536, 130 << 10}[rng.IntN(9)]
				n, err := nc.Write(streamBytes(written, size))
				written += n
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("Write: %v", err)
				}
			}
			_ = nc.SetWriteDeadline(time.Time{})
			go c.Close(StatusNormalClosure, "")
			res := <-read
			if res.err != nil {
				t.Fatalf("after %d bytes: %v", len(res.got), res.err)
			}
			if want := streamBytes(0, written); !bytes.Equal(res.got, want) {
				i := 0
				for i < len(res.got) && i < len(want) && res.got[i] == want[i] {
					i++
				}
				t.Fatalf("the peer got %d bytes, Write reported %d; they differ from byte %d", len(res.got), written, i)
			}
		})
	}
}
