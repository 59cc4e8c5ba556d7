//go:build linux && !386

package sysio

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// TestBlockingSocket checks that the calls do not wait on a socket that
// has been made blocking (as os.File's Fd does): they return EAGAIN, as on
// a non-blocking one.
func TestBlockingSocket(t *testing.T) {
	a, _ := socketPair(t)
	if err := syscall.SetNonblock(int(a), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Read(a, make([]byte, 16))
		if !errors.Is(err, syscall.EAGAIN) {
			done <- err
			return
		}
		p := make([]byte, 64<<10)
		for i := 0; i < 1<<12; i++ { // 256 MiB: more than a socket's buffer
			if _, err = Write(a, p, p); err != nil {
				break
			}
		}
		if !errors.Is(err, syscall.EAGAIN) {
			done <- err
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("got %v, want EAGAIN from a read of an empty socket and from writes to a full one", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call on a blocking socket waited in the kernel")
	}
}
