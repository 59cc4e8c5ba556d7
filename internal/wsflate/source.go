package wsflate

import (
	"compress/flate"
	"io"
)

// finalTail follows the sync tail in every message handed to the inflater:
// an empty stored block with BFINAL set, so that a well-formed message ends
// in io.EOF from compress/flate rather than an unexpected EOF, and a
// message cut inside a block is still reported as an error.
var finalTail = [5]byte{0x01, 0x00, 0x00, 0xff, 0xff}

// tails is syncTail followed by finalTail.
var tails = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// messageSource is the byte stream the inflater reads for one message: the
// payload, then 00 00 ff ff (RFC 7692 section 7.2.2), then finalTail. An
// empty payload, which some peers send for an empty message, gets only
// finalTail, since 00 00 ff ff alone is not a valid block. It
// implements io.ByteReader, which compress/flate reads bit by bit, so that
// flate does not wrap it in a bufio.Reader of its own.
type messageSource struct {
	src    io.Reader // nil once the payload is exhausted
	buf    [512]byte
	r, w   int   // unread bytes are buf[r:w]
	inTail bool  // buf holds tail bytes, not payload
	total  int64 // payload bytes read from src
	tail   []byte
}

func (m *messageSource) reset(src io.Reader) {
	m.src = src
	m.r, m.w = 0, 0
	m.inTail = false
	m.total = 0
	m.tail = nil
	if src == nil {
		m.tail = finalTail[:]
	}
}

func (m *messageSource) ReadByte() (byte, error) {
	if m.r == m.w {
		if err := m.fill(); err != nil {
			return 0, err
		}
	}
	c := m.buf[m.r]
	m.r++
	return c, nil
}

func (m *messageSource) Read(p []byte) (int, error) {
	if m.r == m.w {
		if err := m.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, m.buf[m.r:m.w])
	m.r += n
	return n, nil
}

// fill refills buf from the payload, or from the tail once the payload
// has ended.
func (m *messageSource) fill() error {
	m.r, m.w = 0, 0
	for m.src != nil {
		n, err := m.src.Read(m.buf[:])
		m.w = n
		m.total += int64(n)
		if err == io.EOF {
			m.src = nil
			m.tail = tails[:]
			if m.total == 0 {
				m.tail = finalTail[:]
			}
		} else if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	if len(m.tail) == 0 {
		return io.EOF
	}
	m.inTail = true
	m.w = copy(m.buf[:], m.tail)
	m.tail = m.tail[m.w:]
	return nil
}

// emptyStoredBlock is what RFC 7692 section 7.2.1 appends to a message that
// ends with a BFINAL block; its last four bytes are then removed, so such a
// message is followed by a single 0x00 (the example of section 7.2.3.4).
var emptyStoredBlock = [5]byte{0x00, 0x00, 0x00, 0xff, 0xff}

// drainAfterFinal reads the rest of the payload once the DEFLATE stream has
// ended in a BFINAL block. What is left must be a prefix of an empty stored
// block; anything else is data the inflater would silently drop, so it is
// reported as corrupt input.
func (m *messageSource) drainAfterFinal() error {
	i := 0
	for {
		if !m.inTail {
			for _, c := range m.buf[m.r:m.w] {
				if i == len(emptyStoredBlock) || c != emptyStoredBlock[i] {
					return flate.CorruptInputError(m.total - int64(m.w-m.r))
				}
				i++
			}
		}
		m.r = m.w
		if m.src == nil {
			return nil
		}
		if err := m.fill(); err != nil && err != io.EOF {
			return err
		}
	}
}
