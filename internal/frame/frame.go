// Package frame is the pure RFC 6455 frame codec: header encoding and
// decoding and payload masking. It holds no connection state, so each
// function can be tested and fuzzed on its own.
package frame

import (
	"encoding/binary"
	"errors"
)

// Opcode is a frame's opcode (RFC 6455 section 5.2).
type Opcode byte

// The opcodes defined by RFC 6455 section 11.8.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (RFC 6455 section 5.5).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsKnown reports whether op is defined by RFC 6455; the others are reserved.
func (op Opcode) IsKnown() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// MaxHeaderSize is the largest encoded frame header: 2 fixed bytes, an
// 8-byte extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload of a control frame (RFC 6455
// section 5.5).
const MaxControlPayload = 125

// Header is a decoded frame header.
type Header struct {
	Fin    bool
	Rsv1   bool
	Rsv2   bool
	Rsv3   bool
	Opcode Opcode
	Masked bool
	Length int64
	// Key is the masking key in wire order, as Mask takes it.
	Key [4]byte
}

// Errors returned by Decode for headers that break RFC 6455 section 5.2.
var (
	ErrShortHeader   = errors.New("frame: header incomplete")
	ErrNonMinimal    = errors.New("frame: payload length not in its minimal form")
	ErrLengthTooHigh = errors.New("frame: 64-bit payload length has its most significant bit set")
)

// Size returns the number of bytes h takes when encoded.
func (h *Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// Encode writes h into b, which must hold at least h.Size() bytes, using the
// minimal length form, and returns the number of bytes written. It panics
// if h.Length is negative, which no header can encode.
func Encode(b []byte, h *Header) int {
	if h.Length < 0 {
		panic("frame: negative payload length")
	}
	b0 := byte(h.Opcode) & 0x0F
	if h.Fin {
		b0 |= 0x80
	}
	if h.Rsv1 {
		b0 |= 0x40
	}
	if h.Rsv2 {
		b0 |= 0x20
	}
	if h.Rsv3 {
		b0 |= 0x10
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	n := 2
	switch {
	case h.Length > 0xFFFF:
		b1 |= 127
		binary.BigEndian.PutUint64(b[2:10], uint64(h.Length))
		n = 10
	case h.Length > 125:
		b1 |= 126
		binary.BigEndian.PutUint16(b[2:4], uint16(h.Length))
		n = 4
	default:
		b1 |= byte(h.Length)
	}
	b[0], b[1] = b0, b1
	if h.Masked {
		copy(b[n:n+4], h.Key[:])
		n += 4
	}
	return n
}

// Decode parses the header at the start of b. It returns the number of bytes
// used, or ErrShortHeader (and the number of bytes needed, when known) if b
// holds only part of a header. Lengths that are not minimal (RFC 6455 section
// 5.2: "the minimal number of bytes MUST be used") or whose top bit is set are
// errors; everything else, including reserved bits and opcodes, is left for
// the caller to judge, since that depends on negotiated extensions.
func Decode(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 2, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv1 = b0&0x40 != 0
	h.Rsv2 = b0&0x20 != 0
	h.Rsv3 = b0&0x10 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	h.Masked = b1&0x80 != 0
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	if len(b) < n {
		return h, n, ErrShortHeader
	}
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		if h.Length < 126 {
			return h, n, ErrNonMinimal
		}
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, n, ErrLengthTooHigh
		}
		h.Length = int64(u)
		if h.Length <= 0xFFFF {
			return h, n, ErrNonMinimal
		}
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[n-4:n])
	}
	return h, n, nil
}
