package starling

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCloseCodesEchoed checks that each close code that may be sent (RFC
// 6455 section 7.4.1 and 7.4.2, and 1012–1014 from the IANA registry) is
// accepted: Read reports the peer's code
// and reason exactly, and the close frame is echoed with the same code
// (section 5.5.1).
func TestCloseCodesEchoed(t *testing.T) {
	codes := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4001, 4999}
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				in := readInBackground(c)
				reason := "bye " + strings.Repeat("é", 30) // 64 bytes of UTF-8
				if err := p.sendClose(code, reason); err != nil {
					t.Fatal(err)
				}
				f, err := p.nextNonPong()
				if err != nil || f.op != 0x8 {
					t.Fatalf("want the echoed close frame, got op %#x, %v", f.op, err)
				}
				if got, _ := decodeClose(t, f.payload); got != StatusCode(code) {
					t.Fatalf("echoed code %v, want %d", got, code)
				}
				if r == clientRole {
					p.nc.Close() // as a server does after the handshake
				}
				err = in.wait(t)
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != StatusCode(code) || ce.Reason != reason {
					t.Fatalf("Read error %v, want CloseError{%d, %q}", err, code, reason)
				}
				if r == serverRole {
					// Section 7.1.1: the server closes TCP first.
					p.expectEOF()
				}
			})
		})
	}
}

// TestCloseCodesInvalid checks that codes that may not be sent fail the
// connection with 1002 (RFC 6455 section 7.4).
func TestCloseCodesInvalid(t *testing.T) {
	codes := []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				in := readInBackground(c)
				if err := p.sendClose(code, ""); err != nil {
					t.Fatal(err)
				}
				p.expectClose(1002)
				if got := CloseStatus(in.wait(t)); got != 1002 {
					t.Fatalf("Read error status %v, want 1002", got)
				}
			})
		})
	}
}

// TestCloseEmpty checks that a close frame without a code is reported as
// 1005 and answered with an empty close frame (RFC 6455 section 7.1.5 and
// 7.4.1: 1005 is never sent).
func TestCloseEmpty(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		p.send(rawFrame{fin: true, op: 0x8})
		f, err := p.nextNonPong()
		if err != nil || f.op != 0x8 || len(f.payload) != 0 {
			t.Fatalf("want an empty close frame, got op %#x payload %x, %v", f.op, f.payload, err)
		}
		if r == clientRole {
			p.nc.Close()
		}
		if got := CloseStatus(in.wait(t)); got != StatusNoStatusRcvd {
			t.Fatalf("Read error status %v, want 1005", got)
		}
	})
}

// TestCloseHandshakeFromStarling checks the close handshake started by the
// Starling side (RFC 6455 section 7.1.2 to 7.1.4): the peer sees the code
// and reason exactly, Close waits for the peer's answer, and the server
// closes TCP first while the client waits for it.
func TestCloseHandshakeFromStarling(t *testing.T) {
	for _, reading := range []bool{false, true} {
		t.Run(fmt.Sprintf("reading=%v", reading), func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				var in *starlingReader
				if reading {
					in = readInBackground(c)
				}
				closed := make(chan error, 1)
				go func() { closed <- c.Close(4001, "bye") }()
				f, err := p.nextNonPong()
				if err != nil || f.op != 0x8 {
					t.Fatalf("want a close frame, got op %#x, %v", f.op, err)
				}
				if code, reason := decodeClose(t, f.payload); code != 4001 || reason != "bye" {
					t.Fatalf("close frame %v %q, want 4001 \"bye\"", code, reason)
				}
				// Section 5.5.1: no data after the close frame.
				if err := c.Write(dialCtx(t), MessageText, []byte("late")); err == nil {
					t.Error("Write after Close succeeded")
				}
				select {
				case err := <-closed:
					t.Fatalf("Close returned %v before the peer answered", err)
				case <-time.After(50 * time.Millisecond):
				}
				p.sendClose(4001, "bye too")
				if r == serverRole {
					p.expectEOF() // the server closes TCP first
				} else {
					// The client must leave closing TCP to the server.
					select {
					case <-p.done:
						t.Fatalf("client closed TCP before the server: %v", p.err)
					case <-time.After(100 * time.Millisecond):
					}
					p.nc.Close()
				}
				select {
				case err := <-closed:
					if err != nil {
						t.Fatalf("Close: %v", err)
					}
				case <-time.After(testTimeout):
					t.Fatal("Close did not return")
				}
				if in != nil {
					var ce *CloseError
					if err := in.wait(t); !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye too" {
						t.Fatalf("Read error %v, want the peer's CloseError{4001, \"bye too\"}", err)
					}
				}
			})
		})
	}
}

// TestCloseRefusesLocalCodes checks that Close refuses codes that may not
// be sent (RFC 6455 section 7.4.1: 1005, 1006 and 1015 are local only) and
// sends nothing for them.
func TestCloseRefusesLocalCodes(t *testing.T) {
	c, p := newPair(t, serverRole, pipeTransport)
	for _, code := range []StatusCode{1005, 1006, 1015, 999, 1004, 1016, 2999, 5000} {
		if err := c.Close(code, ""); !errors.Is(err, ErrInvalidStatus) {
			t.Errorf("Close(%d) = %v, want ErrInvalidStatus", code, err)
		}
	}
	if err := c.Close(1000, strings.Repeat("a", 124)); !errors.Is(err, ErrControlTooLong) {
		t.Errorf("Close with a 124-byte reason = %v, want ErrControlTooLong", err)
	}
	if err := c.Close(1000, "\xff"); err == nil {
		t.Error("Close with an invalid UTF-8 reason succeeded")
	}
	in := readInBackground(c)
	p.send(rawFrame{fin: true, op: 0x1, payload: []byte("still open")})
	if m := in.next(t); string(m.data) != "still open" {
		t.Fatalf("read %q", m.data)
	}
}

// TestAbnormalClosure checks that a connection that ends without a close
// frame is reported as 1006 (RFC 6455 section 7.1.5), never as a plain
// io.EOF, whether it ends between frames or inside one.
func TestAbnormalClosure(t *testing.T) {
	cuts := map[string]func(mask bool) []byte{
		"between frames":  func(bool) []byte { return nil },
		"inside a header": func(bool) []byte { return []byte{0x81} },
		"inside a payload": func(mask bool) []byte {
			return encodeFrame(rawFrame{fin: true, op: 0x2, payload: make([]byte, 100)}, mask, [4]byte{9, 9, 9, 9})[:50]
		},
	}
	for name, partial := range cuts {
		t.Run(name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				in := readInBackground(c)
				p.write(partial(p.mask))
				p.nc.Close()
				err := in.wait(t)
				if got := CloseStatus(err); got != StatusAbnormalClosure {
					t.Fatalf("Read error %v has status %v, want 1006", err, got)
				}
			})
		})
	}
}

// TestPeerClosesRightAway checks that a peer that hangs up right after its
// close frame, so that our echo cannot leave, is still reported with its
// code, by the read and by later calls, not as the 1006 of the failed echo
// (a Node user met this against a peer that closed too fast, ws #1134).
func TestPeerClosesRightAway(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		in := readInBackground(c)
		p.send(rawFrame{fin: true, op: 0x8, payload: []byte{0x03, 0xf0, 'b', 'y', 'e'}}) // 1008
		p.nc.Close()
		if err := in.wait(t); CloseStatus(err) != StatusPolicyViolation {
			t.Fatalf("Read error %v, want the peer's 1008", err)
		}
		if err := c.Write(dialCtx(t), MessageText, []byte("late")); CloseStatus(err) != StatusPolicyViolation {
			t.Fatalf("Write after the peer's close: %v, want the peer's 1008", err)
		}
	})
}

// TestCloseDiscardsDataBeforeAnswer checks that data the peer sent before
// answering our close frame is discarded and the handshake still completes
// (RFC 6455 section 1.4 and 7.1.2).
func TestCloseDiscardsDataBeforeAnswer(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		closed := make(chan error, 1)
		go func() { closed <- c.Close(StatusGoingAway, "") }()
		if f, err := p.nextNonPong(); err != nil || f.op != 0x8 {
			t.Fatalf("want a close frame, got op %#x, %v", f.op, err)
		}
		p.send(rawFrame{op: 0x1, payload: []byte("in flight, ")})
		p.send(rawFrame{fin: true, op: 0x9, payload: []byte("ping")})
		p.send(rawFrame{fin: true, op: 0x0, payload: []byte("still")})
		p.sendClose(1001, "")
		if r == clientRole {
			p.nc.Close()
		}
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Close did not return")
		}
		// Section 5.5.1: after its close frame, the Starling side sends
		// nothing more, not even the pong.
		for {
			f, err := p.next()
			if err != nil {
				break
			}
			t.Fatalf("frame op %#x after the close frame", f.op)
		}
	})
}

// TestCloseTimesOut checks that Close gives up, closing the connection, on
// a peer that never answers the close frame.
func TestCloseTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the close timeout")
	}
	c, p := newPair(t, serverRole, tcpTransport)
	start := time.Now()
	err := c.Close(StatusNormalClosure, "")
	if err == nil {
		t.Fatal("Close returned nil though the peer never answered")
	}
	if d := time.Since(start); d > closeTimeout+2*time.Second {
		t.Fatalf("Close took %v, beyond the close timeout of %v", d, closeTimeout)
	}
	if f, err := p.next(); err != nil || f.op != 0x8 {
		t.Fatalf("want the close frame, got op %#x, %v", f.op, err)
	}
	p.expectEOF()
}

// TestCloseTimesOutDespiteIdleTimeout checks that the idle timeout, when
// longer than the close handshake's, does not stretch Close's wait for a
// peer that never answers.
func TestCloseTimesOutDespiteIdleTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the close timeout")
	}
	c, p := newServerPair(t, tcpTransport, connConfig{idleTimeout: 30 * time.Second})
	closed := make(chan error, 1)
	go func() { closed <- c.Close(StatusNormalClosure, "") }()
	select {
	case err := <-closed:
		if err == nil {
			t.Fatal("Close returned nil though the peer never answered")
		}
	case <-time.After(closeTimeout + 2*time.Second):
		t.Fatalf("Close still waits after %v, beyond the close timeout of %v", closeTimeout+2*time.Second, closeTimeout)
	}
	if f, err := p.next(); err != nil || f.op != 0x8 {
		t.Fatalf("want the close frame, got op %#x, %v", f.op, err)
	}
}

// TestCloseBetweenStarlings runs the close handshake between a Starling
// client and a Starling server over loopback TCP, started from each side:
// the answering side sees the code and reason exactly, the initiator the
// echoed code (RFC 6455 section 7.1.2 to 7.1.4).
func TestCloseBetweenStarlings(t *testing.T) {
	for _, closer := range []role{serverRole, clientRole} {
		t.Run(string(closer)+" closes", func(t *testing.T) {
			s := newAcceptServer(t, nil, nil)
			client, _, err := Dial(dialCtx(t), s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.CloseNow()
			server := s.result(t).c
			initiator, answerer := server, client
			if closer == clientRole {
				initiator, answerer = client, server
			}
			answererRead := readInBackground(answerer)
			initiatorRead := readInBackground(initiator)
			if err := initiator.Close(4001, "bye"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			var ce *CloseError
			if err := answererRead.wait(t); !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
				t.Fatalf("answerer's Read error %v, want CloseError{4001, \"bye\"}", err)
			}
			if err := initiatorRead.wait(t); !errors.As(err, &ce) || ce.Code != 4001 {
				t.Fatalf("initiator's Read error %v, want the echoed CloseError{4001}", err)
			}
		})
	}
}

// TestClientReadAfterClose has a client close, reading the peer's
// answering close frame inside Close, and then call Read, which must
// report how the connection ended. (The close frame's payload was once
// consumed after Close had drained the connection, which left the read
// buffer inconsistent and made this Read panic.)
func TestClientReadAfterClose(t *testing.T) {
	for _, tr := range bothTransports {
		t.Run(string(tr), func(t *testing.T) {
			c, p := newPair(t, clientRole, tr)
			go func() {
				if f, err := p.next(); err == nil && f.op == 0x8 {
					_ = p.sendClose(1000, "")
					p.nc.Close() // the server closes TCP first (section 7.1.1)
				}
			}()
			if err := c.Close(StatusNormalClosure, ""); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, _, err := c.Read(context.Background()); err == nil {
				t.Fatal("Read after Close succeeded")
			}
		})
	}
}
