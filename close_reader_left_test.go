package starling

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestCloseReadsOnceReaderLeaves has Close start while another goroutine
// reads, whose read then gives up (the connection stays open), before the
// peer's close frame arrives: Close must read it itself and return nil,
// not wait out its timeout with nobody reading. The reader gives up by its
// context (Read) or by its deadline (NetConn).
func TestCloseReadsOnceReaderLeaves(t *testing.T) {
	readers := map[string]func(c *Conn) (read func() error, giveUp func(), gaveUp error){
		"Read": func(c *Conn) (func() error, func(), error) {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			return func() error { _, _, err := c.Read(ctx); return err }, cancel, context.Canceled
		},
		"NetConn": func(c *Conn) (func() error, func(), error) {
			nc := NetConn(context.Background(), c, MessageBinary)
			read := func() error { _, err := nc.Read(make([]byte, 8)); return err }
			return read, func() { _ = nc.SetReadDeadline(time.Now()) }, os.ErrDeadlineExceeded
		},
	}
	for name, reader := range readers {
		t.Run(name, func(t *testing.T) {
			forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
				c, p := newPair(t, r, tr)
				read, giveUp, gaveUp := reader(c)
				readErr := make(chan error, 1)
				go func() { readErr <- read() }()
				for !c.readMu.held.Load() { // the reader waits
					time.Sleep(time.Millisecond)
				}
				closed := make(chan error, 1)
				go func() { closed <- c.Close(StatusNormalClosure, "") }()
				if f, err := p.next(); err != nil || f.op != 0x8 {
					t.Fatalf("peer got op %#x, %v; want the close frame", f.op, err)
				}
				giveUp()
				if err := <-readErr; !errors.Is(err, gaveUp) {
					t.Fatalf("read = %v, want %v", err, gaveUp)
				}
				go func() {
					p.sendClose(1000, "")
					if r == clientRole {
						p.nc.Close() // as a server does after the handshake
					}
				}()
				select {
				case err := <-closed:
					if err != nil {
						t.Fatalf("Close = %v; the peer answered", err)
					}
				case <-time.After(testTimeout):
					t.Fatal("Close still waits")
				}
			})
		})
	}
}

// TestCloseLeavesMessagesToReader has Close start while another goroutine
// reads in a loop that does not give up: the messages the peer sends
// between our close frame and its own still reach that reader, not Close.
func TestCloseLeavesMessagesToReader(t *testing.T) {
	forRoles(t, bothRoles, func(t *testing.T, r role, tr transport) {
		c, p := newPair(t, r, tr)
		got := make(chan string, 10)
		readErr := make(chan error, 1)
		go func() {
			for {
				_, b, err := c.Read(context.Background())
				if err != nil {
					readErr <- err
					return
				}
				got <- string(b)
			}
		}()
		for !c.readMu.held.Load() {
			time.Sleep(time.Millisecond)
		}
		closed := make(chan error, 1)
		go func() { closed <- c.Close(StatusNormalClosure, "") }()
		if f, err := p.next(); err != nil || f.op != 0x8 {
			t.Fatalf("peer got op %#x, %v; want the close frame", f.op, err)
		}
		for _, m := range []string{"a", "b", "c"} {
			if err := p.send(rawFrame{fin: true, op: 0x1, payload: []byte(m)}); err != nil {
				t.Fatal(err)
			}
		}
		_ = p.sendClose(1000, "")
		if r == clientRole {
			p.nc.Close()
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close = %v; the peer answered", err)
		}
		var ce *CloseError
		if err := <-readErr; !errors.As(err, &ce) || ce.Code != StatusNormalClosure {
			t.Fatalf("reader's error %v, want the peer's CloseError", err)
		}
		close(got)
		var all string
		for m := range got {
			all += m
		}
		if all != "abc" {
			t.Fatalf("reader got %q, want \"abc\"", all)
		}
	})
}
