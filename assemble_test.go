package starling

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/starling-ws/starling/internal/frame"
)

// emitted is one message or control frame a messageAssembler emitted.
type emitted struct {
	op      frame.Opcode
	payload string
}

// assemble feeds stream to a messageAssembler in chunks of chunk bytes
// and returns what it emitted, and whether anything was left over.
func assemble(stream []byte, chunk int) (got []emitted, rest bool, err error) {
	var a messageAssembler
	emit := func(op frame.Opcode, p []byte) error {
		got = append(got, emitted{op, string(p)})
		return nil
	}
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		if err := a.write(stream[:n], emit); err != nil {
			return got, false, err
		}
		stream = stream[n:]
	}
	return got, len(a.buf) > 0 || a.op != 0, nil
}

// assemblerWriter is a transport that puts what a Conn writes back into
// messages, and never has anything to read until it is closed.
type assemblerWriter struct {
	a      messageAssembler
	got    []emitted
	closed chan struct{}
}

func (w *assemblerWriter) Write(p []byte) (int, error) {
	err := w.a.write(p, func(op frame.Opcode, p []byte) error {
		w.got = append(w.got, emitted{op, string(p)})
		return nil
	})
	return len(p), err
}

func (w *assemblerWriter) Read([]byte) (int, error) { <-w.closed; return 0, io.EOF }
func (w *assemblerWriter) Close() error {
	select {
	case <-w.closed:
	default:
		close(w.closed)
	}
	return nil
}

// TestMessageAssemblerTakesWhatAConnWrites writes through a client Conn,
// masked, whole and streamed, and checks that the messages come back as
// they were written.
func TestMessageAssemblerTakesWhatAConnWrites(t *testing.T) {
	w := &assemblerWriter{closed: make(chan struct{})}
	c := newConn(connConfig{rwc: w, client: true})
	defer c.CloseNow()
	ctx := context.Background()
	long := strings.Repeat("fragmented α ", 20000) // over Writer's frame size
	if err := c.Write(ctx, MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, MessageBinary, []byte{0, 0xff}); err != nil {
		t.Fatal(err)
	}
	mw, err := c.Writer(ctx, MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(long); i += 1001 {
		if _, err := io.WriteString(mw, long[i:min(i+1001, len(long))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePing(ctx, []byte("p")); err != nil {
		t.Fatal(err)
	}
	want := []emitted{{frame.OpText, "hello"}, {frame.OpBinary, "\x00\xff"}, {frame.OpText, long}, {frame.OpPing, "p"}}
	if len(w.got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(w.got), len(want))
	}
	for i := range want {
		if w.got[i] != want[i] {
			t.Errorf("message %d: opcode %d, %d bytes; want opcode %d, %d bytes", i, w.got[i].op, len(w.got[i].payload), want[i].op, len(want[i].payload))
		}
	}
}

// FuzzMessageAssembler builds messages, fragments and control frames from
// the input, writes them as masked frames in chunks of any size, and
// checks that the assembler returns them as built; raw input must not
// make it panic.
func FuzzMessageAssembler(f *testing.F) {
	f.Add([]byte("\x00\x05hello\x01\x03ab\x02\x04ping\x03\x00"), uint8(3))
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		_, _, _ = assemble(data, int(chunk)+1) // raw bytes: an error, never a panic
		var stream []byte
		var want []emitted
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		add := func(fin bool, op frame.Opcode, p []byte) {
			h := frame.Header{Fin: fin, Opcode: op, Masked: true, Key: key, Length: int64(len(p))}
			var hdr [frame.MaxHeaderSize]byte
			stream = append(stream, hdr[:frame.Encode(hdr[:], &h)]...)
			masked := bytes.Clone(p)
			frame.Mask(key, 0, masked)
			stream = append(stream, masked...)
		}
		for len(data) >= 2 {
			kind, n := data[0]%4, min(int(data[1]), len(data)-2)
			p := data[2 : 2+n]
			data = data[2+n:]
			switch kind {
			case 0: // a whole text message
				add(true, frame.OpText, p)
				want = append(want, emitted{frame.OpText, string(p)})
			case 1: // a binary message in frames of up to 3 bytes, a ping between them
				for i := 0; i == 0 || i < len(p); i += 3 {
					op := frame.OpContinuation
					if i == 0 {
						op = frame.OpBinary
					}
					add(i+3 >= len(p), op, p[i:min(i+3, len(p))])
					if i == 0 && len(p) > 3 {
						add(true, frame.OpPing, []byte("between"))
						want = append(want, emitted{frame.OpPing, "between"})
					}
				}
				want = append(want, emitted{frame.OpBinary, string(p)})
			case 2:
				p = p[:min(len(p), frame.MaxControlPayload)]
				add(true, frame.OpPing, p)
				want = append(want, emitted{frame.OpPing, string(p)})
			case 3:
				p = p[:min(len(p), frame.MaxControlPayload)]
				add(true, frame.OpClose, p)
				want = append(want, emitted{frame.OpClose, string(p)})
			}
		}
		got, rest, err := assemble(stream, int(chunk)+1)
		if err != nil || rest {
			t.Fatalf("error %v, something left over: %v", err, rest)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d messages, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("message %d: got opcode %d %q, want opcode %d %q", i, got[i].op, got[i].payload, want[i].op, want[i].payload)
			}
		}
	})
}
