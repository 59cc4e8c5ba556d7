package starling

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/starling-ws/starling/internal/frame"
	"github.com/starling-ws/starling/internal/utf8v"
)

// maxCloseReason is the longest reason that fits in a close frame beside
// its 2-byte code (RFC 6455 section 5.5).
const maxCloseReason = frame.MaxControlPayload - 2

// Close performs the close handshake (RFC 6455 section 7): it sends a close
// frame with code and reason, waits for the peer's close frame, and closes
// the connection. Each step is bounded by a timeout of a few seconds. Close
// returns nil once the peer has answered.
//
// The messages the peer sends before its close frame go to the goroutine
// reading, if there is one; otherwise, or once that reader gives up (its
// context ends), Close reads them itself and discards them.
//
// The code must be one that may be sent (1000–1003, 1007–1014, 3000–4999)
// and the reason valid UTF-8 of at most 123 bytes.
func (c *Conn) Close(code StatusCode, reason string) error {
	if !code.validOnWire() {
		return fmt.Errorf("%w: %v", ErrInvalidStatus, code)
	}
	if len(reason) > maxCloseReason {
		return fmt.Errorf("starling: close reason of %d bytes exceeds %d: %w", len(reason), maxCloseReason, ErrControlTooLong)
	}
	if !utf8v.Valid([]byte(reason)) {
		return errors.New("starling: close reason is not valid UTF-8")
	}
	if !c.flags.claim(flagCloseSent) {
		// Another call already started the handshake, or the connection
		// failed; wait for its end, and report nil only if the peer
		// answered.
		c.waitClosed(closeTimeout)
		if c.peerCloseReceived() {
			return nil
		}
		return c.closedError()
	}
	// Who reads the peer's answer is settled before our close frame
	// leaves: a goroutine inside Read now stays the reader up to the
	// peer's close frame, even if it is between two Reads when a message
	// arrives; with none, Close reads from here on.
	held := c.readMu.tryLock()
	if err := c.sendClose(code, reason); err != nil {
		if held {
			c.readMu.unlock()
		}
		c.shutdown(err)
		return err
	}
	return c.awaitPeerClose(held)
}

// sendClose writes a close frame; closeSent must already be set.
func (c *Conn) sendClose(code StatusCode, reason string) error {
	var buf [frame.MaxControlPayload]byte
	n := 0
	if code != StatusNoStatusRcvd {
		binary.BigEndian.PutUint16(buf[:], uint16(code))
		n = 2 + copy(buf[2:], reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return c.locked(ctx, controlFrame, func() error {
		// A pong still queued answers a ping that came before the
		// peer's close frame, and must leave before ours (RFC 6455
		// section 5.5.2); none may follow it.
		if err := c.writeQueuedPong(); err != nil {
			return err
		}
		return c.writeFrameLocked(true, frame.OpClose, false, buf[:n])
	})
}

// awaitPeerClose waits for the peer's answer to our close frame, reading
// and discarding data if Close holds the read lock (held). If another
// goroutine is reading, it reads the answer; should that reader give up
// first (its context ends), Close reads in its place.
func (c *Conn) awaitPeerClose(held bool) error {
	deadline := time.Now().Add(closeTimeout)
	if held {
		return c.readPeerClose(deadline)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	select {
	case <-c.readLeft.done(&c.closeMu):
		if c.readMu.lock(ctx, c) == nil {
			return c.readPeerClose(deadline)
		}
	case <-c.closeRcvd.done(&c.closeMu):
		c.waitClosed(closeTimeout)
		return nil
	case <-c.closed.done(&c.closeMu):
	case <-ctx.Done():
	}
	if !c.isClosed() {
		c.shutdown(ErrClosed)
		return errors.New("starling: close handshake: timed out waiting for the peer's close frame")
	}
	if c.peerCloseReceived() {
		return nil
	}
	return fmt.Errorf("starling: close handshake: %w", c.cause())
}

// readPeerClose reads, holding the read lock, until the peer's close
// frame, discarding data.
func (c *Conn) readPeerClose(deadline time.Time) error {
	defer c.readMu.unlock()
	c.br.detach() // the reader may still be using a ReadSlice
	if c.rs.inMessage && (c.rs.remaining > 0 || !c.rs.fin) {
		// A Reader's reader may be partway through this message,
		// whose rest is discarded below: it must not take the
		// end of what it got for the end of the message.
		defer func() { c.rs.cut = true }()
	}
	stop := c.deadline(deadline)
	defer stop()
	for {
		err := c.nextMessage()
		var ce *CloseError
		if errors.As(err, &ce) && c.peerCloseReceived() {
			return nil
		}
		if err != nil {
			c.shutdown(err)
			return fmt.Errorf("starling: close handshake: %w", err)
		}
	}
}

func (c *Conn) peerCloseReceived() bool { return c.closeRcvd.hasFired() }

func (c *Conn) waitClosed(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.closed.done(&c.closeMu):
	case <-t.C:
		c.shutdown(ErrClosed)
	}
}

// receiveClose handles the peer's close frame (RFC 6455 section 5.5.1): it
// checks the payload, echoes the code if we have not sent a close frame
// ourselves, and closes the connection.
func (c *Conn) receiveClose(p []byte) error {
	ce, err := parseClose(p)
	if err != nil {
		return c.fail(err)
	}
	c.closeRcvd.fire(&c.closeMu)
	if c.flags.claim(flagCloseSent) && c.sendClose(ce.Code, "") != nil {
		// The echo failed, most often because the peer closed at once;
		// the connection still ended with the peer's close frame, not
		// with the 1006 of the failed write.
		c.closeMu.Lock()
		c.closeErr = &ce
		c.closeMu.Unlock()
	}
	c.finishClose(&ce)
	return &ce
}

// parseClose decodes a close frame's payload (RFC 6455 section 5.5.1 and
// 7.4): empty, or a valid code followed by a UTF-8 reason.
func parseClose(p []byte) (CloseError, error) {
	switch {
	case len(p) == 0:
		return CloseError{Code: StatusNoStatusRcvd}, nil
	case len(p) == 1:
		return CloseError{}, protocolError(StatusProtocolError, "close frame payload of 1 byte")
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !code.validOnWire() {
		return CloseError{}, protocolError(StatusProtocolError, "invalid close code %d", int(code))
	}
	if !utf8v.Valid(p[2:]) {
		return CloseError{}, protocolError(StatusInvalidFramePayload, "close reason is not valid UTF-8")
	}
	return CloseError{Code: code, Reason: string(p[2:])}, nil
}

// finishClose ends the connection after the close frames have crossed. The
// server closes TCP first (RFC 6455 section 7.1.1), so it is the one in
// TIME_WAIT; the client waits briefly for that before closing itself.
func (c *Conn) finishClose(cause error) {
	if c.client {
		stop := c.deadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, &c.br)
		stop()
	}
	c.shutdown(cause)
}

// fail fails the connection (RFC 6455 section 7.1.7): it sends a close frame
// with the failure's code, drains what the peer still sends for a moment so
// that the close frame is not lost to a TCP reset, and closes.
func (c *Conn) fail(err error) error {
	var f *failure
	if errors.As(err, &f) && c.flags.claim(flagCloseSent) {
		reason := f.ce.Reason
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
			for !utf8v.Valid([]byte(reason)) {
				reason = reason[:len(reason)-1]
			}
		}
		// A server on a transport that no reset can take the close frame
		// from closes at once: it cannot end one side first, so waiting
		// for the client's end would wait for a client that waits for
		// the server's (finishClose).
		if c.sendClose(f.ce.Code, reason) == nil && (c.client || !c.resetProof()) {
			// A server closes TCP first (section 7.1.1); a client waits
			// for it.
			if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok && !c.client {
				_ = cw.CloseWrite()
			}
			stop := c.deadline(time.Now().Add(time.Second))
			_, _ = io.Copy(io.Discard, &c.br)
			stop()
		}
	}
	c.shutdown(err)
	return err
}

// resetProof reports whether closing c's transport with input unread
// loses nothing already written, as closing a TCP connection can (by a
// reset): net.Pipe's writes end only once read, and an HTTP/2 or HTTP/3
// stream's two directions end apart, the server's with its handler.
func (c *Conn) resetProof() bool {
	switch t := c.rwc.(type) {
	case *stream:
		return true
	case net.Conn:
		a := t.LocalAddr() // nil for some wrappers
		return a != nil && a.Network() == "pipe"
	}
	return false
}

// deadline makes reads fail after t, and returns a function that lifts the
// deadline. Without a net.Conn to set a deadline on, the connection is
// closed at t instead.
func (c *Conn) deadline(t time.Time) (stop func()) {
	if d := c.deadlines(); d != nil && d.SetReadDeadline(t) == nil {
		return func() { _ = d.SetReadDeadline(time.Time{}) }
	}
	timer := time.AfterFunc(time.Until(t), func() { c.shutdown(ErrClosed) })
	return func() { timer.Stop() }
}

// CloseRead starts a goroutine that reads from c, for a program that only
// writes: it answers pings and completes the close handshake. A data
// message from the peer fails the connection with 1008 (policy violation).
// The returned context ends when the connection does; if ctx ends first,
// the connection is closed.
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		defer c.CloseNow()
		if _, _, err := c.Reader(ctx); err == nil {
			c.fail(protocolError(StatusPolicyViolation, "unexpected data message"))
		}
	}()
	return ctx
}
