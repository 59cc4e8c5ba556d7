//go:build unix

package starling

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// This file checks the read path against a model: readModel is a plain
// interpreter of RFC 6455 sections 5 and 8 that turns the bytes a peer sends
// into the messages a reader must return, the pongs it must send and the
// status it must end with. The fuzz targets build frame sequences from their
// input, send them to a real Conn in chunks of assorted sizes (across the
// read buffer's 512 B and 64 KiB sizes), read them with each of the read
// APIs, and compare everything with the model.

// modelResult is what a reader must make of a byte stream.
type modelResult struct {
	msgs  []message
	pings [][]byte // the ping payloads to answer, in order (section 5.5.2)
	// code is the close status of the error the reader ends with: the
	// failure's, the peer's close code, or 1006 for a stream that ends
	// without a close frame (section 7.1.5).
	code StatusCode
	// sent is the code of the close frame the reader must send, or 0 for
	// none; 1005 stands for an empty close frame.
	sent StatusCode
	// partial is what arrived of a message the stream did not finish.
	partial []byte
}

// readModel reads frames the simplest way there is: the whole stream is in
// memory, and each rule is checked in turn.
type readModel struct {
	client       bool  // the reader is the client, so frames must not be masked
	limit        int64 // the read limit
	maxFragments int
	// stream is, for NetConn's byte stream, the only type of message
	// allowed (others fail with 1003); 0 for the message APIs.
	stream MessageType

	wire []byte
	res  modelResult

	inMessage bool
	typ       MessageType
	msg       []byte
	fragments int
}

// run interprets wire and returns the result.
func (m *readModel) run(wire []byte) modelResult {
	m.wire = wire
	for m.frame() {
	}
	return m.res
}

// end records the end of the stream with code, and whether a close frame
// with it goes back.
func (m *readModel) end(code StatusCode, send bool) bool {
	m.res.code = code
	if m.inMessage {
		m.res.partial = m.msg
	}
	if send {
		m.res.sent = code
	}
	return false
}

// fail is a failure of the connection (section 7.1.7): a close frame with
// code goes back.
func (m *readModel) fail(code StatusCode) bool { return m.end(code, true) }

// frame interprets the next frame, and reports whether to go on.
func (m *readModel) frame() bool {
	w := m.wire
	if len(w) < 2 {
		return m.end(StatusAbnormalClosure, false)
	}
	fin, rsv, op := w[0]&0x80 != 0, w[0]&0x70, w[0]&0x0F
	masked, length := w[1]&0x80 != 0, uint64(w[1]&0x7F)
	size := 2
	switch length {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if masked {
		size += 4
	}
	if len(w) < size {
		return m.end(StatusAbnormalClosure, false)
	}
	// Section 5.2: the length in the minimal number of bytes, and the
	// 64-bit form's top bit clear. A length that breaks the latter is
	// a message larger than any limit, which Starling reports as 1009.
	switch length {
	case 126:
		length = uint64(binary.BigEndian.Uint16(w[2:]))
		if length < 126 {
			return m.fail(StatusProtocolError)
		}
	case 127:
		length = binary.BigEndian.Uint64(w[2:])
		if length>>63 != 0 {
			return m.fail(StatusMessageTooBig)
		}
		if length < 1<<16 {
			return m.fail(StatusProtocolError)
		}
	}
	control := op >= 8
	switch {
	case op > 2 && op < 8 || op > 10: // reserved opcodes (section 5.2)
		return m.fail(StatusProtocolError)
	case rsv != 0: // no extension negotiated (section 5.2)
		return m.fail(StatusProtocolError)
	case masked == m.client: // section 5.1
		return m.fail(StatusProtocolError)
	case control && (!fin || length > 125): // section 5.5
		return m.fail(StatusProtocolError)
	}
	var key []byte
	if masked {
		key = w[size-4 : size]
	}
	m.wire = w[size:]
	if control {
		return m.control(op, length, key)
	}
	return m.data(fin, op, length, key)
}

// payload takes up to n bytes of payload, unmasked with key.
func (m *readModel) payload(n uint64, key []byte) []byte {
	p := bytes.Clone(m.wire[:min(n, uint64(len(m.wire)))])
	m.wire = m.wire[len(p):]
	for i := range p {
		if key != nil {
			p[i] ^= key[i%4]
		}
	}
	return p
}

// control handles a ping, pong or close frame (section 5.5).
func (m *readModel) control(op byte, n uint64, key []byte) bool {
	p := m.payload(n, key)
	if uint64(len(p)) < n {
		return m.end(StatusAbnormalClosure, false)
	}
	switch op {
	case 0x9:
		m.res.pings = append(m.res.pings, p)
	case 0x8:
		// Section 5.5.1: no body, or a 2-byte code and a UTF-8 reason;
		// section 7.4: codes that may appear on the wire.
		if len(p) == 0 {
			return m.end(StatusNoStatusRcvd, true)
		}
		if len(p) == 1 {
			return m.fail(StatusProtocolError)
		}
		code := StatusCode(binary.BigEndian.Uint16(p))
		switch {
		case !(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999):
			return m.fail(StatusProtocolError)
		case !utf8.Valid(p[2:]): // section 8.1
			return m.fail(StatusInvalidFramePayload)
		}
		return m.end(code, true)
	}
	return true
}

// data handles a data frame (section 5.4: the fragments of one message in
// a row, continuation frames only inside a message).
func (m *readModel) data(fin bool, op byte, n uint64, key []byte) bool {
	switch {
	case op == 0 && !m.inMessage, op != 0 && m.inMessage:
		return m.fail(StatusProtocolError)
	case op != 0:
		m.inMessage, m.typ, m.msg, m.fragments = true, MessageType(op), nil, 0
	}
	m.fragments++
	if m.fragments > m.maxFragments || n > uint64(m.limit) || int64(len(m.msg))+int64(n) > m.limit {
		return m.fail(StatusMessageTooBig)
	}
	if op != 0 && m.stream != 0 && MessageType(op) != m.stream {
		return m.fail(StatusUnsupportedData)
	}
	p := m.payload(n, key)
	m.msg = append(m.msg, p...)
	// Section 8.1, failing fast: text fails as soon as what has arrived
	// cannot begin valid UTF-8, even if the rest never comes.
	if m.typ == MessageText && !validPrefix(m.msg) {
		return m.fail(StatusInvalidFramePayload)
	}
	if uint64(len(p)) < n {
		return m.end(StatusAbnormalClosure, false)
	}
	if !fin {
		return true
	}
	if m.typ == MessageText && !utf8.Valid(m.msg) {
		return m.fail(StatusInvalidFramePayload)
	}
	m.res.msgs = append(m.res.msgs, message{m.typ, m.msg})
	m.inMessage = false
	return true
}

// validPrefix reports whether p is the start of some valid UTF-8: valid,
// or valid but for a last character that some continuation bytes would
// complete. The bytes tried are the ends of the ranges of Unicode table
// 3-7, so that each range is tried.
func validPrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for tail := 1; tail <= 3 && tail <= len(p); tail++ {
		for _, c := range completions(4 - tail) {
			if len(c) > 0 && utf8.Valid(append(slices.Clip(p), c...)) {
				return true
			}
		}
	}
	return false
}

// completions returns every sequence of up to n bytes from the ends of the
// continuation byte ranges.
func completions(n int) [][]byte {
	ends := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	out := [][]byte{nil}
	for prev := [][]byte{nil}; n > 0; n-- {
		var next [][]byte
		for _, q := range prev {
			for _, b := range ends {
				next = append(next, append(slices.Clip(q), b))
			}
		}
		out = append(out, next...)
		prev = next
	}
	return out
}

// readCase is a fuzzed input: a connection's settings, the frames its peer
// sends, and how they reach it.
type readCase struct {
	client       bool
	socket       bool // a Unix socket rather than net.Pipe
	limit        int64
	maxFragments int
	chunkSeed    byte // picks the sizes of the peer's writes
	sizeSeed     byte // picks the read sizes, for Reader and ReadAppend
	cut          int  // bytes cut from the end of the stream
	early        int  // bytes the Conn starts with, as if read past the handshake
	wire         []byte
}

// fuzzSource hands out the fuzz input a byte at a time, then zeros.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzSource) take(n int) []byte {
	n = min(n, len(s.b))
	p := s.b[:n]
	s.b = s.b[n:]
	return p
}

// The tables fuzzed bytes pick from: sizes on both sides of the read
// buffer's sizes (512 B, 64 KiB) and of the frame length forms.
var (
	modelLimits       = []int64{1 << 20, 0, 1, 125, 511, 512, 65536, -1}
	modelMaxFragments = []int{DefaultMaxFragments, 1, 2, 3, 4, 8, 16, 100}
	modelPayloadSizes = []int{125, 126, 127, 128, 255, 256, 500, 510, 511, 512, 513, 514,
		1023, 1024, 1025, 4095, 4096, 4097, 16383, 16384, 16385, 32768, 65533, 65534,
		65535, 65536, 65537, 65538, 70000, 100000, 131072, 200000}
	modelChunkSizes = []int{1, 2, 3, 5, 7, 11, 64, 127, 500, 511, 512, 513, 1000, 4096,
		16384, 65535, 65536, 65537, 1 << 20}
	modelReadSizes = []int{1, 2, 3, 5, 7, 8, 100, 511, 512, 513, 1000, 4096, 16383, 16384,
		16385, 65537}
	modelPatterns = []string{"a", "κ", "€", "😀"}
)

// maxModelWire bounds the stream, so that each input runs quickly.
const maxModelWire = 1 << 20

// parseReadCase decodes a fuzz input: five bytes of settings, then frames.
// Each frame starts with a byte k: k&7 picks the opcode (7: raw bytes
// follow instead of a frame), k&8 clears FIN, k&0x10 sets the RSV bits from
// the next byte, k&0x20 breaks the masking rule, k&0x40 takes a length form
// from the next byte. Then a length byte: below 0xC0 the payload is that
// many input bytes, else a large payload of a repeated character, with a
// bad byte written into it if the next byte says so.
func parseReadCase(data []byte) *readCase {
	s := &fuzzSource{data}
	h := s.next()
	rc := &readCase{
		client:       h&1 != 0,
		socket:       h&2 != 0,
		limit:        modelLimits[h>>2&7],
		maxFragments: modelMaxFragments[h>>5],
		chunkSeed:    s.next(),
		sizeSeed:     s.next(),
		cut:          int(s.next()),
	}
	if e := s.next(); e != 0 {
		rc.early = modelChunkSizes[int(e-1)%len(modelChunkSizes)]
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := 0; len(s.b) > 0 && n < 64; n++ {
		k := s.next()
		if k&7 == 7 {
			rc.wire = append(rc.wire, s.take(int(s.next()%16))...)
			continue
		}
		f := rawFrame{fin: k&8 == 0, op: []byte{0, 1, 2, 0, 8, 9, 10}[k&7]}
		if k&0x10 != 0 {
			f.rsv = s.next() & 0x70
		}
		if k&0x40 != 0 {
			f.lenForm = []int{16, 64}[s.next()&1]
		}
		f.payload = modelPayload(s, len(rc.wire))
		if f.lenForm == 16 && len(f.payload) > 0xFFFF {
			f.lenForm = 64
		}
		key[n%4]++
		rc.wire = append(rc.wire, encodeFrame(f, !rc.client != (k&0x20 != 0), key)...)
	}
	rc.wire = rc.wire[:len(rc.wire)-min(rc.cut, len(rc.wire))]
	rc.early = min(rc.early, len(rc.wire))
	return rc
}

// modelPayload decodes a frame's payload from s, keeping the stream, which
// is used bytes long so far, within maxModelWire.
func modelPayload(s *fuzzSource, used int) []byte {
	n := s.next()
	if n < 0xC0 {
		return bytes.Clone(s.take(int(n)))
	}
	size := modelPayloadSizes[n&0x1F]
	if used+size > maxModelWire {
		return nil
	}
	q := s.next()
	pattern := modelPatterns[q&3]
	phase := int(q>>2&3) % len(pattern)
	p := bytes.Repeat([]byte(pattern), size/len(pattern)+2)[phase:][:size]
	if q&0x10 != 0 {
		pos := int(binary.BigEndian.Uint16([]byte{s.next(), s.next()}))
		p[pos%size] = s.next()
	}
	return p
}

// lcg yields a sequence of indexes into tables from a seed.
type lcg uint32

func (l *lcg) pick(n int) int {
	*l = *l*1103515245 + 12345
	return int(*l>>16) % n
}

// readAPI is one of the ways to read messages: it returns each message in
// turn. For Reader, a message it chose to stop reading early may be a
// prefix of the message.
type readAPI struct {
	name string
	read func(ctx context.Context, c *Conn, l *lcg) (msg message, prefix bool, err error)
	// stream is set for NetConn, whose read is a byte stream of messages
	// of this type: then read is called once, to return it all.
	stream MessageType
}

var (
	apiRead = readAPI{name: "Read", read: func(ctx context.Context, c *Conn, _ *lcg) (message, bool, error) {
		typ, p, err := c.Read(ctx)
		return message{typ, p}, false, err
	}}
	apiReadSlice = readAPI{name: "ReadSlice", read: func(ctx context.Context, c *Conn, _ *lcg) (message, bool, error) {
		typ, p, err := c.ReadSlice(ctx)
		return message{typ, bytes.Clone(p)}, false, err
	}}
	apiReadAppend    = readAPI{name: "ReadAppend", read: readAppendPrefixed}
	apiReader        = readAPI{name: "Reader", read: readWithReader}
	apiNetConnBinary = readAPI{"NetConn", readNetConn(MessageBinary), MessageBinary}
	apiNetConnText   = readAPI{"NetConn", readNetConn(MessageText), MessageText}
	// apiMixed picks one of the others for each message, so that each
	// reads on from where another left the connection.
	apiMixed = readAPI{name: "mixed", read: func(ctx context.Context, c *Conn, l *lcg) (message, bool, error) {
		apis := []readAPI{apiRead, apiReadSlice, apiReadAppend, apiReader}
		return apis[l.pick(len(apis))].read(ctx, c, l)
	}}
)

// readAppendPrefixed reads with ReadAppend into a buffer of a picked
// capacity that holds a prefix, which must come back unchanged.
func readAppendPrefixed(ctx context.Context, c *Conn, l *lcg) (message, bool, error) {
	prefix := []byte("pre")[:l.pick(4)]
	dst := append(make([]byte, 0, []int{0, 1, 7, 64, 512, 513, 65536, 70000}[l.pick(8)]), prefix...)
	typ, p, err := c.ReadAppend(ctx, dst)
	if !bytes.HasPrefix(p, prefix) {
		return message{}, false, fmt.Errorf("ReadAppend lost the prefix %q of dst: got %.10q", prefix, p)
	}
	return message{typ, bytes.Clone(p[len(prefix):])}, false, err
}

// readNetConn reads NetConn's byte stream of messages of type typ to its
// end, in reads of picked sizes, and returns it as one message.
func readNetConn(typ MessageType) func(ctx context.Context, c *Conn, l *lcg) (message, bool, error) {
	return func(ctx context.Context, c *Conn, l *lcg) (message, bool, error) {
		nc := NetConn(ctx, c, typ)
		var stream []byte
		for {
			p := make([]byte, modelReadSizes[l.pick(len(modelReadSizes))])
			n, err := nc.Read(p)
			stream = append(stream, p[:n]...)
			if err != nil {
				return message{typ, stream}, false, err
			}
		}
	}
}

// readWithReader reads a message with Reader, in reads of picked sizes;
// one message in four it stops after the first read, leaving the rest for
// the next call to discard.
func readWithReader(ctx context.Context, c *Conn, l *lcg) (message, bool, error) {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return message{}, false, err
	}
	early := l.pick(4) == 0
	var msg []byte
	for {
		p := make([]byte, modelReadSizes[l.pick(len(modelReadSizes))])
		n, err := r.Read(p)
		msg = append(msg, p[:n]...)
		switch {
		case err == io.EOF:
			return message{typ, msg}, false, nil
		case err != nil:
			return message{}, false, err
		case early:
			return message{typ, msg}, true, nil
		}
	}
}

// socketPair returns the two ends of a Unix stream socket pair: a real
// socket, read through the raw connection as TCP is, but with no port to
// use up and no TIME_WAIT, so that a fuzzer can make thousands a second.
func socketPair(t *testing.T) (a, b net.Conn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return conns[0], conns[1]
}

// peerResult is what the peer received from the Conn.
type peerResult struct {
	pongs [][]byte
	close []byte // the close frame's payload; nil if none came
	err   error  // a frame that breaks the rules, or trailing bytes
}

// runReadCase sends rc's stream to a Conn, reads it with api, and compares
// what the Conn returned and sent with the model.
func runReadCase(t *testing.T, rc *readCase, api readAPI) {
	m := &readModel{client: rc.client, limit: rc.limit, maxFragments: rc.maxFragments, stream: api.stream}
	if m.limit < 0 {
		m.limit = math.MaxInt64
	}
	want := m.run(rc.wire)

	local, peer := net.Pipe()
	if rc.socket {
		local, peer = socketPair(t)
	}
	defer peer.Close()
	c := newConn(connConfig{rwc: local, early: rc.wire[:rc.early], client: rc.client, maxFragments: rc.maxFragments})
	c.SetReadLimit(rc.limit)
	defer c.CloseNow()

	received := make(chan peerResult, 1)
	progress := make(chan peerResult, 1024) // each pong or close frame as it comes
	go func() { received <- readPeer(peer, rc.client, progress) }()
	go sendChunks(peer, rc, want, progress)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	l := lcg(rc.sizeSeed)
	var got []message
	var prefixes []bool
	var err error
	for {
		var msg message
		var prefix bool
		msg, prefix, err = api.read(ctx, c, &l)
		if api.stream != 0 {
			got = append(got, msg)
			break
		}
		if err != nil {
			break
		}
		got = append(got, msg)
		prefixes = append(prefixes, prefix)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s hung: %v", api.name, err)
	}
	var pr peerResult
	select {
	case pr = <-received:
	case <-time.After(testTimeout):
		t.Fatal("the Conn did not close its end")
	}
	if api.stream != 0 {
		want, err = streamResult(t, want, got[0].data, err)
		got, prefixes = want.msgs, make([]bool, len(want.msgs))
	}
	compareReadCase(t, api.name, want, got, prefixes, err, pr)
}

// streamResult checks NetConn's stream against the model's messages, and
// turns the model's result and NetConn's error into those of the message
// APIs, for compareReadCase. The stream holds every message, then part or
// all of what arrived of an unfinished one (text stops before a bad
// character); a normal closure reads as io.EOF.
func streamResult(t *testing.T, want modelResult, stream []byte, err error) (modelResult, error) {
	t.Helper()
	var whole []byte
	for _, m := range want.msgs {
		whole = append(whole, m.data...)
	}
	if !bytes.HasPrefix(stream, whole) || !bytes.HasPrefix(append(whole, want.partial...), stream) {
		t.Fatalf("NetConn: read a stream of %d bytes %.20q, want %d bytes %.20q and up to %d more",
			len(stream), stream, len(whole), whole, len(want.partial))
	}
	if err == io.EOF {
		if want.code != StatusNormalClosure {
			t.Fatalf("NetConn: read io.EOF, want status %d", want.code)
		}
		err = &CloseError{Code: StatusNormalClosure}
	}
	return want, err
}

// compareReadCase reports how the Conn's result differs from the model's.
func compareReadCase(t *testing.T, api string, want modelResult, got []message, prefixes []bool, err error, pr peerResult) {
	t.Helper()
	if len(got) == len(want.msgs)+1 && prefixes[len(got)-1] {
		// Reader stopped early in a message the stream never finished.
		got = got[:len(want.msgs)]
	}
	n := min(len(got), len(want.msgs))
	for i := range n {
		w, g := want.msgs[i], got[i]
		if g.typ != w.typ || !bytes.Equal(g.data, w.data) && !(prefixes[i] && bytes.HasPrefix(w.data, g.data)) {
			t.Fatalf("%s: message %d is %v of %d bytes %.20q, want %v of %d bytes %.20q",
				api, i, g.typ, len(g.data), g.data, w.typ, len(w.data), w.data)
		}
	}
	if len(got) != len(want.msgs) || CloseStatus(err) != want.code {
		t.Fatalf("%s: got %d messages, then %v (status %d); want %d messages, then status %d",
			api, len(got), err, CloseStatus(err), len(want.msgs), want.code)
	}
	if pr.err != nil {
		t.Fatalf("%s: the Conn sent: %v", api, pr.err)
	}
	// Section 5.5.3 lets a reader answer only the latest of the pings it
	// has not answered yet; but the latest is answered, before the close
	// frame, unless the connection broke (1006).
	if !isSubsequence(pr.pongs, want.pings) ||
		want.sent != 0 && len(want.pings) > 0 && (len(pr.pongs) == 0 || !bytes.Equal(pr.pongs[len(pr.pongs)-1], want.pings[len(want.pings)-1])) {
		t.Fatalf("%s: the Conn sent %d pongs %q, for pings %q", api, len(pr.pongs), pr.pongs, want.pings)
	}
	switch {
	case want.sent == 0 && pr.close != nil:
		t.Fatalf("%s: the Conn sent a close frame %q, want none", api, pr.close)
	case want.sent == StatusNoStatusRcvd && len(pr.close) != 0:
		t.Fatalf("%s: the Conn sent close frame %q, want an empty one", api, pr.close)
	case want.sent != 0 && want.sent != StatusNoStatusRcvd && (len(pr.close) < 2 || StatusCode(binary.BigEndian.Uint16(pr.close)) != want.sent):
		t.Fatalf("%s: the Conn sent close frame %q, want code %d", api, pr.close, want.sent)
	case len(pr.close) > 2 && !utf8.Valid(pr.close[2:]):
		t.Fatalf("%s: the Conn sent a close reason that is not UTF-8: %q", api, pr.close)
	}
}

// isSubsequence reports whether the elements of a are elements of b, in
// the same order.
func isSubsequence(a, b [][]byte) bool {
	for _, x := range b {
		if len(a) > 0 && bytes.Equal(a[0], x) {
			a = a[1:]
		}
	}
	return len(a) == 0
}

// sendChunks writes rc's stream to peer in chunks of picked sizes, then
// ends it. A socket peer ends it with a half close, and reads on. A pipe has
// no half close: it is closed once the Conn has sent what the model says
// it sends, or after a while if it does not.
func sendChunks(peer net.Conn, rc *readCase, want modelResult, progress <-chan peerResult) {
	l := lcg(rc.chunkSeed)
	for w := rc.wire[rc.early:]; len(w) > 0; {
		n := min(modelChunkSizes[l.pick(len(modelChunkSizes))], len(w))
		if _, err := peer.Write(w[:n]); err != nil {
			break
		}
		w = w[n:]
	}
	if uc, ok := peer.(*net.UnixConn); ok {
		uc.CloseWrite()
		return
	}
	// Wait for the close frame, or for the latest ping's pong when none
	// is due; other pongs may not come (section 5.5.3).
	var lastPing []byte
	if len(want.pings) > 0 {
		lastPing = want.pings[len(want.pings)-1]
	}
	answered, closed := lastPing == nil, false
	timeout := time.After(time.Second)
	for want.sent != 0 && !closed || want.sent == 0 && !answered {
		select {
		case pr, ok := <-progress:
			if !ok {
				peer.Close()
				return
			}
			answered = answered || len(pr.pongs) > 0 && bytes.Equal(pr.pongs[0], lastPing)
			closed = closed || pr.close != nil
		case <-timeout:
			peer.Close()
			return
		}
	}
	peer.Close()
}

// readPeer reads what the Conn sends until it closes, checking each frame,
// and reports each pong and close frame on progress too.
func readPeer(nc net.Conn, client bool, progress chan<- peerResult) (pr peerResult) {
	defer close(progress)
	var buf []byte
	p := make([]byte, 4096)
	for {
		n, err := nc.Read(p)
		buf = append(buf, p[:n]...)
		for pr.err == nil {
			f, size, ok, ferr := splitFrame(buf, client)
			if !ok {
				pr.err = ferr
				break
			}
			buf = buf[size:]
			pr.err = addPeerFrame(&pr, f, progress)
		}
		if err != nil {
			if pr.err == nil && len(buf) > 0 {
				pr.err = fmt.Errorf("%d bytes of an incomplete frame", len(buf))
			}
			return pr
		}
	}
}

// splitFrame decodes the frame at the start of b, sent by a Conn that is
// the client if client is set, with its payload unmasked. It reports
// whether b holds the whole frame.
func splitFrame(b []byte, client bool) (f rawFrame, size int, ok bool, err error) {
	if len(b) < 2 {
		return f, 0, false, nil
	}
	f.fin, f.rsv, f.op, f.masked = b[0]&0x80 != 0, b[0]&0x70, b[0]&0x0F, b[1]&0x80 != 0
	n, size := int(b[1]&0x7F), 2
	switch {
	case n > 125: // the Conn sends only control frames here
		return f, 0, false, fmt.Errorf("frame of opcode %#x with a payload of over 125 bytes", f.op)
	case f.masked != client: // section 5.1
		return f, 0, false, fmt.Errorf("frame of opcode %#x with the mask bit %v", f.op, f.masked)
	}
	if f.masked {
		size += 4
	}
	if len(b) < size+n {
		return f, 0, false, nil
	}
	f.payload = bytes.Clone(b[size : size+n])
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= b[size-4+i%4]
		}
	}
	return f, size + n, true, nil
}

// addPeerFrame checks a frame the Conn sent and adds it to pr.
func addPeerFrame(pr *peerResult, f rawFrame, progress chan<- peerResult) error {
	switch {
	case pr.close != nil:
		return fmt.Errorf("frame of opcode %#x after the close frame", f.op)
	case !f.fin || f.rsv != 0:
		return fmt.Errorf("frame with FIN %v and RSV %#x", f.fin, f.rsv)
	case f.op == 0xA:
		pr.pongs = append(pr.pongs, f.payload)
		progress <- peerResult{pongs: [][]byte{f.payload}}
	case f.op == 0x8:
		pr.close = f.payload
		if pr.close == nil {
			pr.close = []byte{}
		}
		progress <- peerResult{close: pr.close}
	default:
		return fmt.Errorf("unexpected frame of opcode %#x", f.op)
	}
	return nil
}

// modelSeed builds a fuzz input from settings and frames, each frame given
// as its bytes in parseReadCase's form.
func modelSeed(settings byte, frames ...[]byte) []byte {
	return append([]byte{settings, 3, 5, 0, 0}, bytes.Join(frames, nil)...)
}

// seedFrame is a frame for modelSeed with k and a short payload.
func seedFrame(k byte, payload string) []byte {
	return append([]byte{k, byte(len(payload))}, payload...)
}

// addModelSeeds adds inputs that cover the main paths: whole and fragmented
// messages with control frames between fragments, sizes across the buffer
// sizes, characters split across frames, close frames, and failures.
func addModelSeeds(f *testing.F) {
	const (
		cont, text, binary, _, closeOp, ping, pong = 0, 1, 2, 3, 4, 5, 6
		raw                                        = 7
		more                                       = 8 // not FIN
		withRSV, flipMask, lenForm                 = 0x10, 0x20, 0x40
		limit512, unlimited, twoFragments          = 4 << 2, 7 << 2, 2 << 5
	)
	big := func(k, size, q byte) []byte { return []byte{k, 0xC0 | size, q} }
	for _, settings := range []byte{0, 1, 2, 3} {
		f.Add(modelSeed(settings, seedFrame(text, "hello")))
		f.Add(modelSeed(settings, seedFrame(text|more, "κ\xce"), seedFrame(ping, "p"), seedFrame(cont, "\xbaσμε")))
		f.Add(modelSeed(settings, seedFrame(binary|more, "ab"), big(cont, 9, 0), seedFrame(pong, "x"), big(cont, 29, 1), seedFrame(cont, "z")))
		f.Add(modelSeed(settings, big(text, 18, 2), big(text, 28, 7), big(binary, 31, 3), seedFrame(closeOp, "\x03\xe8bye")))
		f.Add(modelSeed(settings, big(text|more, 11, 3), big(cont, 26, 6), seedFrame(cont, "\x80")))
		f.Add(modelSeed(settings, append(big(text, 27, 0x11), 0, 100, 0xff)))
		f.Add(modelSeed(settings, seedFrame(text, "\xf4\x90\x80\x80")))
		f.Add(modelSeed(settings, seedFrame(closeOp, "\x03\xedbad"), seedFrame(text, "after")))
		f.Add(modelSeed(settings, seedFrame(closeOp, ""), seedFrame(text, "after")))
		f.Add(modelSeed(settings, seedFrame(cont, "no message")))
		f.Add(modelSeed(settings|limit512, seedFrame(text, "within the limit"), big(binary, 10, 0)))
		f.Add(modelSeed(settings|twoFragments, seedFrame(text|more, "a"), seedFrame(cont|more, "b"), seedFrame(cont, "c")))
		f.Add(modelSeed(settings, seedFrame(ping|more, "frag")))
		f.Add(modelSeed(settings, []byte{withRSV | text, 0x40, 4, 'r', 's', 'v', '1'}))
		f.Add(modelSeed(settings, seedFrame(flipMask|text, "flipped mask")))
		f.Add(modelSeed(settings, seedFrame(raw, "\x82\x7f\x80\x00")))
		f.Add(modelSeed(settings|unlimited, seedFrame(raw, "\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04")))
		f.Add(modelSeed(settings, []byte{lenForm | text, 0, 3, 'a', 'b', 'c'}))
		for _, early := range []byte{1, 3, 10, 18, 19} {
			seed := modelSeed(settings, big(binary, 29, 0), seedFrame(text, "tail"))
			seed[4] = early
			f.Add(seed)
		}
	}
}

func FuzzReadModelRead(f *testing.F)       { fuzzReadModel(f, apiRead) }
func FuzzReadModelReadAppend(f *testing.F) { fuzzReadModel(f, apiReadAppend) }
func FuzzReadModelReadSlice(f *testing.F)  { fuzzReadModel(f, apiReadSlice) }
func FuzzReadModelReader(f *testing.F)     { fuzzReadModel(f, apiReader) }
func FuzzReadModelMixed(f *testing.F)      { fuzzReadModel(f, apiMixed) }

// FuzzReadModelNetConn reads NetConn's byte stream, of binary messages
// for inputs of even length and of text for the others.
func FuzzReadModelNetConn(f *testing.F) {
	addModelSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		api := apiNetConnBinary
		if len(data)%2 != 0 {
			api = apiNetConnText
		}
		runReadCase(t, parseReadCase(data), api)
	})
}

// fuzzReadModel runs the model comparison for api on fuzzed inputs.
func fuzzReadModel(f *testing.F, api readAPI) {
	addModelSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		runReadCase(t, parseReadCase(data), api)
	})
}

// TestReadModel checks the model itself, on the examples of RFC 6455
// section 5.7 and on one case of each failure.
func TestReadModel(t *testing.T) {
	hello := []byte("Hello")
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	masked := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	tests := []struct {
		name   string
		client bool
		limit  int64
		wire   []byte
		msgs   []message
		pings  int
		code   StatusCode
		sent   StatusCode
	}{
		{"unmasked text", true, 100, []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			[]message{{MessageText, hello}}, 0, StatusAbnormalClosure, 0},
		{"masked text", false, 100, masked, []message{{MessageText, hello}}, 0, StatusAbnormalClosure, 0},
		{"masked text to a client", true, 100, masked, nil, 0, StatusProtocolError, StatusProtocolError},
		{"fragments", true, 100, []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x01, 'p', 0x80, 0x02, 0x6c, 0x6f},
			[]message{{MessageText, hello}}, 1, StatusAbnormalClosure, 0},
		{"256 bytes", true, 1000, cat([]byte{0x82, 0x7E, 0x01, 0x00}, make([]byte, 256)),
			[]message{{MessageBinary, make([]byte, 256)}}, 0, StatusAbnormalClosure, 0},
		{"64 KiB", true, 1 << 20, cat([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 65536)),
			[]message{{MessageBinary, make([]byte, 65536)}}, 0, StatusAbnormalClosure, 0},
		{"over the limit", true, 255, cat([]byte{0x82, 0x7E, 0x01, 0x00}, make([]byte, 256)), nil, 0, StatusMessageTooBig, StatusMessageTooBig},
		{"non-minimal length", true, 100, []byte{0x82, 0x7E, 0x00, 0x01, 0}, nil, 0, StatusProtocolError, StatusProtocolError},
		{"close", true, 100, []byte{0x88, 0x02, 0x03, 0xe8, 0x81, 0x00}, nil, 0, StatusNormalClosure, StatusNormalClosure},
		{"empty close", true, 100, []byte{0x88, 0x00}, nil, 0, StatusNoStatusRcvd, StatusNoStatusRcvd},
		{"close code 1005", true, 100, []byte{0x88, 0x02, 0x03, 0xed}, nil, 0, StatusProtocolError, StatusProtocolError},
		{"bad text", true, 100, []byte{0x81, 0x02, 0xc3, 0x28}, nil, 0, StatusInvalidFramePayload, StatusInvalidFramePayload},
		{"bad text, cut short", true, 100, []byte{0x01, 0x01, 0xc3, 0x80, 0x05, 0x28}, nil, 0, StatusInvalidFramePayload, StatusInvalidFramePayload},
		{"split character", true, 100, []byte{0x01, 0x01, 0xc3, 0x80, 0x01, 0xa9}, []message{{MessageText, []byte("é")}}, 0, StatusAbnormalClosure, 0},
		{"reserved opcode", true, 100, []byte{0x83, 0x00}, nil, 0, StatusProtocolError, StatusProtocolError},
	}
	for _, tt := range tests {
		m := &readModel{client: tt.client, limit: tt.limit, maxFragments: 8}
		got := m.run(tt.wire)
		same := func(a, b message) bool { return a.typ == b.typ && bytes.Equal(a.data, b.data) }
		if !slices.EqualFunc(got.msgs, tt.msgs, same) || len(got.pings) != tt.pings || got.code != tt.code || got.sent != tt.sent {
			t.Errorf("%s: got %d messages, %d pings, status %d, sent %d; want %d, %d, %d, %d",
				tt.name, len(got.msgs), len(got.pings), got.code, got.sent, len(tt.msgs), tt.pings, tt.code, tt.sent)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for _, tt := range []struct {
		p    string
		want bool
	}{
		{"", true}, {"a", true}, {"\xc3", true}, {"\xc3\xa9", true}, {"\xc3(", false},
		{"\xe0", true}, {"\xe0\x9f", false}, {"\xe0\xa0", true}, {"\xed\xa0", false}, {"\xed\x9f", true},
		{"\xf0\x8f", false}, {"\xf0\x90\x80", true}, {"\xf4\x8f\xbf", true}, {"\xf4\x90", false},
		{"\xf5", false}, {"\xc0", false}, {"\xc1", false}, {"\x80", false}, {"a\xf0\x9f\x98", true},
	} {
		if got := validPrefix([]byte(tt.p)); got != tt.want {
			t.Errorf("validPrefix(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
}
