//go:build js && wasm

package starling

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"

	"github.com/starling-ws/starling/internal/frame"
)

// browserSocket is a browser's WebSocket object as the transport of a client
// Conn. Each message the browser delivers becomes one unmasked frame for
// the Conn to read, its close event a close frame; the frames the Conn
// writes are unmasked and put together into messages for the browser to
// send. A browser cannot send pings, and answers the server's itself: a
// ping the Conn writes is answered here, at once.
type browserSocket struct {
	ws       js.Value
	funcs    []js.Func
	opened   chan struct{} // closed when the socket opens
	closed   chan struct{} // closed when the browser reports it closed
	openOnce sync.Once
	endOnce  sync.Once
	wake     chan struct{} // a waiting Read has something to look at

	mu       sync.Mutex
	in       []byte // frames for the Conn to read
	readErr  error  // returned once in is read: io.EOF, or net.ErrClosed after Close
	ended    bool   // the browser reported the socket closed
	deadline time.Time
	timer    *time.Timer

	out messageAssembler // what the Conn writes, put back into messages
}

func newBrowserSocket(ws js.Value) *browserSocket {
	s := &browserSocket{
		ws:     ws,
		opened: make(chan struct{}),
		closed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
	ws.Set("binaryType", "arraybuffer")
	s.on("open", func(js.Value) { s.openOnce.Do(func() { close(s.opened) }) })
	s.on("message", s.receive)
	s.on("close", func(ev js.Value) { s.end(ev.Get("code").Int(), ev.Get("reason").String()) })
	return s
}

// on sets the handler of the socket's event name.
func (s *browserSocket) on(name string, handle func(ev js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		handle(args[0])
		return nil
	})
	s.funcs = append(s.funcs, f)
	s.ws.Set("on"+name, f)
}

// receive queues a message event's data as one frame.
func (s *browserSocket) receive(ev js.Value) {
	data := ev.Get("data")
	op, p := frame.OpText, []byte(nil)
	if data.Type() == js.TypeString {
		p = []byte(data.String())
	} else {
		op = frame.OpBinary
		arr := js.Global().Get("Uint8Array").New(data)
		p = make([]byte, arr.Get("length").Int())
		js.CopyBytesToGo(p, arr)
	}
	s.mu.Lock()
	if s.readErr == nil {
		s.in = appendFrame(s.in, op, p)
	}
	s.mu.Unlock()
	s.signal()
}

// end records the socket's close event: a close frame to read (none after
// an abnormal closure, 1006, which has none), then the end of input.
func (s *browserSocket) end(code int, reason string) {
	s.mu.Lock()
	if !s.ended && s.readErr == nil {
		var p []byte
		switch StatusCode(code) {
		case StatusAbnormalClosure:
		case StatusNoStatusRcvd:
			s.in = appendFrame(s.in, frame.OpClose, nil)
		default:
			p = binary.BigEndian.AppendUint16(p, uint16(code))
			s.in = appendFrame(s.in, frame.OpClose, append(p, reason...))
		}
		s.readErr = io.EOF
	}
	s.ended = true
	s.mu.Unlock()
	s.signal()
	s.endOnce.Do(func() {
		close(s.closed)
		// Released from another goroutine than the handler's own call.
		go s.release()
	})
}

// release detaches the event handlers and frees them.
func (s *browserSocket) release() {
	for _, name := range []string{"open", "message", "close"} {
		s.ws.Set("on"+name, js.Null())
	}
	for _, f := range s.funcs {
		f.Release()
	}
}

// appendFrame appends a whole unmasked frame of payload p.
func appendFrame(b []byte, op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(p))}
	var hdr [frame.MaxHeaderSize]byte
	b = append(b, hdr[:frame.Encode(hdr[:], &h)]...)
	return append(b, p...)
}

// signal wakes a waiting Read, if any.
func (s *browserSocket) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Read reads the frames of the messages received, waiting for one.
func (s *browserSocket) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		switch {
		case len(s.in) > 0:
			n := copy(p, s.in)
			s.in = s.in[n:]
			s.mu.Unlock()
			return n, nil
		case s.readErr != nil:
			err := s.readErr
			s.mu.Unlock()
			return 0, err
		case !s.deadline.IsZero() && !time.Now().Before(s.deadline):
			s.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		s.mu.Unlock()
		<-s.wake
	}
}

// SetReadDeadline makes Read fail with os.ErrDeadlineExceeded at t.
func (s *browserSocket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	if s.timer != nil {
		s.timer.Stop()
	}
	if !t.IsZero() {
		s.timer = time.AfterFunc(time.Until(t), s.signal)
	}
	s.mu.Unlock()
	s.signal()
	return nil
}

// resumesAfterDeadline marks the socket as one whose reads go on after a
// deadline cut one short (interrupt.go): a deadline takes nothing from s.in.
func (s *browserSocket) resumesAfterDeadline() {}

// SetWriteDeadline does nothing: the browser queues what is sent, so a
// write never waits.
func (s *browserSocket) SetWriteDeadline(time.Time) error { return nil }

// Write takes frames written by the Conn, in pieces of any size, and acts
// on each message and control frame they complete.
func (s *browserSocket) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(s.readErr, net.ErrClosed) {
		return 0, net.ErrClosed
	}
	if err := s.out.write(p, s.act); err != nil {
		return 0, err
	}
	return len(p), nil
}

// act acts on one message or control frame the Conn wrote. s.mu must be
// held.
func (s *browserSocket) act(op frame.Opcode, p []byte) error {
	switch op {
	case frame.OpPing:
		s.in = appendFrame(s.in, frame.OpPong, p)
		s.signal()
		return nil
	case frame.OpPong:
		return nil // the browser answers pings itself; the Conn never sees one
	case frame.OpClose:
		return s.close(p)
	}
	if s.ended {
		return net.ErrClosed
	}
	return s.send(op, p)
}

// send has the browser send one message.
func (s *browserSocket) send(op frame.Opcode, p []byte) error {
	if op == frame.OpText {
		text := string(p)
		return jsCatch(func() { s.ws.Call("send", text) })
	}
	arr := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(arr, p)
	return jsCatch(func() { s.ws.Call("send", arr) })
}

// close starts the browser's close handshake with the close frame payload
// p. Browsers send only 1000 and 3000–4999: for any other code, the close
// frame goes without a status, which the peer reads as 1005.
func (s *browserSocket) close(p []byte) error {
	if s.ended {
		return nil // the browser has finished the handshake already
	}
	var args []any
	if len(p) >= 2 {
		code := int(binary.BigEndian.Uint16(p))
		if code == int(StatusNormalClosure) || code >= 3000 && code <= 4999 {
			args = []any{code, string(p[2:])}
		}
	}
	return jsCatch(func() { s.ws.Call("close", args...) })
}

// Close closes the socket without waiting for a close handshake.
func (s *browserSocket) Close() error {
	s.mu.Lock()
	s.readErr, s.in = net.ErrClosed, nil
	s.mu.Unlock()
	s.signal()
	return jsCatch(func() { s.ws.Call("close") })
}
