package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/starling-ws/starling/internal/testio"
)

// readChoppy reads one message with r from payload delivered by a
// testio.ChoppyReader, into buffers of random sizes.
func readChoppy(r *Reader, payload []byte, rnd *rand.Rand) ([]byte, error) {
	r.Reset(&testio.ChoppyReader{B: payload, R: rnd})
	var out []byte
	for {
		p := make([]byte, []int{1, 3, 100, 4096, 70_000}[rnd.IntN(5)])
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// flateMessage compresses m with fw as one message: written in random
// pieces, with sync flushes inside it now and then (a sender may flush
// mid-message; the payload then holds 00 00 ff ff inside it), ended by a
// sync flush whose 00 00 ff ff is removed (RFC 7692 section 7.2.1).
func flateMessage(t *testing.T, fw *flate.Writer, buf *bytes.Buffer, m []byte, rnd *rand.Rand) []byte {
	t.Helper()
	buf.Reset()
	for rest := m; len(rest) > 0; {
		k := min(len(rest), 1+rnd.IntN(20_000))
		if _, err := fw.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
		if rnd.IntN(4) == 0 {
			if err := fw.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	z := buf.Bytes()
	if !bytes.HasSuffix(z, syncTail[:]) {
		t.Fatalf("flush did not end in 00 00 ff ff")
	}
	return bytes.Clone(z[:len(z)-len(syncTail)])
}

// streamMessages is a mix of what a connection carries.
func streamMessages(rnd *rand.Rand) [][]byte {
	msgs := [][]byte{nil, {'x'}, textData(100), jsonMessages(1, 40_000, 3)[0]}
	for range 30 {
		n := rnd.IntN(5000)
		if rnd.IntN(5) == 0 {
			n = rnd.IntN(200_000)
		}
		switch rnd.IntN(4) {
		case 0:
			msgs = append(msgs, textData(n))
		case 1:
			msgs = append(msgs, randomData(n, rnd.Uint64()))
		case 2:
			msgs = append(msgs, bytes.Repeat([]byte{byte(rnd.Uint32())}, n))
		default:
			msgs = append(msgs, jsonMessages(1, n, rnd.Uint64())[0])
		}
	}
	return msgs
}

// TestFlateWriterStreams inflates what compress/flate's writer makes at
// every level, starting from a preset dictionary or none, with context
// takeover (one writer for the stream) and without (a fresh writer for
// each message), flushing inside messages, with the payload arriving in
// random pieces and read into buffers of random sizes: every message must
// come back exactly as compress/flate's own reader gives it.
func TestFlateWriterStreams(t *testing.T) {
	dict := textData(40_000)
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		for _, keep := range []bool{true, false} {
			for _, d := range [][]byte{nil, dict[:100], dict} {
				if !keep && d != nil {
					continue // without takeover there is no window to preset
				}
				name := fmt.Sprintf("level=%d/takeover=%t/dict=%d", level, keep, len(d))
				t.Run(name, func(t *testing.T) {
					rnd := rand.New(rand.NewPCG(uint64(level+2), uint64(len(d))))
					checkFlateStream(t, level, keep, d, streamMessages(rnd), rnd)
				})
			}
		}
	}
}

func checkFlateStream(t *testing.T, level int, keep bool, dict []byte, msgs [][]byte, rnd *rand.Rand) {
	var buf bytes.Buffer
	fw, err := flate.NewWriterDict(&buf, level, dict)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(keep)
	var sent []byte // the stream so far, for compress/flate's reader
	if len(dict) > 0 {
		// A first message of dict in stored blocks makes it the window.
		z := storedMessage(dict)
		if got, err := readChoppy(r, z, rnd); err != nil || !bytes.Equal(got, dict) {
			t.Fatalf("dictionary message: %d bytes, %v", len(got), err)
		}
		sent = dict
	}
	for i, m := range msgs {
		if !keep {
			fw.Reset(&buf)
			sent = nil
		}
		z := flateMessage(t, fw, &buf, m, rnd)
		want := flateInflate(t, lastN(sent, winSize), z)
		if !bytes.Equal(want, m) {
			t.Fatalf("message %d: compress/flate's own reader disagrees", i)
		}
		got, err := readChoppy(r, z, rnd)
		if err != nil {
			t.Fatalf("message %d (%d bytes): %v after %d bytes", i, len(m), err, len(got))
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes): got %d bytes, differing", i, len(m), len(got))
		}
		sent = append(lastN(sent, winSize), m...)
	}
}

// storedMessage is data as one message of stored blocks.
func storedMessage(data []byte) []byte {
	var z []byte
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 65535)
		z = append(z, stored(false, rest[:n])...)
		rest = rest[n:]
	}
	return append(z, 0x00)
}

func lastN(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// flateInflate is compress/flate's reader on one message after history.
func flateInflate(t *testing.T, history, z []byte) []byte {
	t.Helper()
	in := bytes.Join([][]byte{z, syncTail[:], {0x01, 0x00, 0x00, 0xff, 0xff}}, nil)
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), history))
	if err != nil {
		t.Fatalf("compress/flate: %v", err)
	}
	return out
}
