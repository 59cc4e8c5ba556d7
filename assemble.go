package starling

import (
	"errors"
	"fmt"

	"github.com/starling-ws/starling/internal/frame"
)

// messageAssembler turns the bytes a Conn writes, in pieces of any size,
// back into whole messages and control frames, for a transport that sends
// messages rather than bytes: the browser's WebSocket (browser_js.go).
type messageAssembler struct {
	buf []byte       // bytes that do not make a whole frame yet
	msg []byte       // the fragments of the message being put together
	op  frame.Opcode // its opcode
}

// write takes p and calls emit with each message or control frame it
// completes, in order, unmasked. A message is emitted with its first
// frame's opcode. The payload emit gets is valid only during the call.
func (a *messageAssembler) write(p []byte, emit func(op frame.Opcode, payload []byte) error) error {
	a.buf = append(a.buf, p...)
	for {
		h, n, err := frame.Decode(a.buf)
		if errors.Is(err, frame.ErrShortHeader) {
			break
		}
		if err != nil {
			return err
		}
		if h.Length > int64(len(a.buf)-n) {
			break // the payload has not all arrived
		}
		end := n + int(h.Length)
		payload := a.buf[n:end]
		if h.Masked {
			frame.Mask(h.Key, 0, payload)
		}
		if err := a.frame(&h, payload, emit); err != nil {
			return err
		}
		a.buf = a.buf[end:]
	}
	if len(a.buf) == 0 {
		a.buf = nil
	}
	return nil
}

// frame puts one frame's payload p into the message it belongs to.
func (a *messageAssembler) frame(h *frame.Header, p []byte, emit func(frame.Opcode, []byte) error) error {
	switch {
	case h.Opcode.IsControl():
		return emit(h.Opcode, p)
	case h.Opcode != frame.OpContinuation:
		if a.op != 0 {
			return fmt.Errorf("starling: a new message began inside message of opcode %d", a.op)
		}
		if h.Fin {
			return emit(h.Opcode, p) // a whole message: no copy
		}
		a.op, a.msg = h.Opcode, append(a.msg[:0], p...)
		return nil
	case a.op == 0:
		return errors.New("starling: a continuation frame outside a message")
	}
	a.msg = append(a.msg, p...)
	if !h.Fin {
		return nil
	}
	op := a.op
	a.op = 0
	err := emit(op, a.msg)
	a.msg = nil
	return err
}
