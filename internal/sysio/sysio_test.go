//go:build unix

package sysio

import (
	"bytes"
	"errors"
	"runtime"
	"syscall"
	"testing"
)

// socketPair returns the two ends of a non-blocking Unix stream socket.
func socketPair(t *testing.T) (a, b uintptr) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
	}
	return uintptr(fds[0]), uintptr(fds[1])
}

// readAll reads from fd until it would wait.
func readAll(t *testing.T, fd uintptr) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := Read(fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
}

func TestReadWouldWait(t *testing.T) {
	a, _ := socketPair(t)
	n, err := Read(a, make([]byte, 16))
	if n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Read of an empty socket = %d, %v; want 0, EAGAIN", n, err)
	}
	if n, err := Read(a, nil); n != 0 || err != nil {
		t.Fatalf("Read into no space = %d, %v; want 0, nil", n, err)
	}
}

func TestWriteOneAndTwo(t *testing.T) {
	a, b := socketPair(t)
	for _, tc := range []struct{ x, y string }{{"header", ""}, {"header", "payload"}, {"", "payload"}, {"", ""}} {
		n, err := Write(a, []byte(tc.x), []byte(tc.y))
		if err != nil || n != len(tc.x)+len(tc.y) {
			t.Fatalf("Write(%q, %q) = %d, %v", tc.x, tc.y, n, err)
		}
		if got := readAll(t, b); string(got) != tc.x+tc.y {
			t.Fatalf("read %q, want %q", got, tc.x+tc.y)
		}
	}
}

// TestWriteFull fills the socket's buffer with writes of a header and a
// payload, continuing after a short write as a caller does: each write
// reports what the kernel took, in order, and EAGAIN once it takes
// nothing more.
func TestWriteFull(t *testing.T) {
	a, b := socketPair(t)
	x := bytes.Repeat([]byte("x"), 1000)
	y := bytes.Repeat([]byte("0123456789"), 10000)
	var sent []byte
	for p, q := x, y; ; {
		n, err := Write(a, p, q)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil || n <= 0 || n > len(p)+len(q) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		sent = append(sent, append(append([]byte{}, p...), q...)[:n]...)
		switch {
		case n < len(p):
			p = p[n:]
		case n < len(p)+len(q):
			p, q = q[n-len(p):], nil
		default:
			p, q = x, y
		}
		if len(sent) > 64<<20 {
			t.Fatal("the socket's buffer never filled")
		}
	}
	if got := readAll(t, b); !bytes.Equal(got, sent) {
		t.Fatalf("read %d bytes, not the %d written, in order", len(got), len(sent))
	}
}

func TestWritePeerGone(t *testing.T) {
	a, b := socketPair(t)
	if err := syscall.Shutdown(int(b), syscall.SHUT_RD); err != nil {
		t.Fatal(err)
	}
	_, err := Write(a, []byte("x"), nil)
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write to a peer that reads no more: %v, want EPIPE", err)
	}
}

// TestHappensBefore checks, under the race detector, that a write to a
// socket happens before the read of what it wrote: the goroutine that
// reads may use what the writer set before writing. Without race.go the
// detector reports a race on x here.
func TestHappensBefore(t *testing.T) {
	a, b := socketPair(t)
	var x int
	go func() {
		x = 1
		if _, err := Write(a, []byte("x"), nil); err != nil {
			t.Error(err)
		}
	}()
	for len(readAll(t, b)) == 0 {
		runtime.Gosched()
	}
	if x != 1 {
		t.Fatalf("x = %d after the read, want 1", x)
	}
}
