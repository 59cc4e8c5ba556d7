package main

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestServeShutdownWithIdleSocket checks that a socket on which no request
// was ever sent, as browsers open ahead of need, does not hold up the exit
// after SIGTERM: net/http's Shutdown waits 5s for such a connection, and
// the page's requests need far less grace than that.
func TestServeShutdownWithIdleSocket(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	idle, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup's stop
		if err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, s.log)
		}
		if took := time.Since(start); took >= 4*time.Second {
			t.Fatalf("serve took %v to exit after SIGTERM with an idle socket open:\n%s", took, s.log)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit:\n%s", s.log)
	}
}
