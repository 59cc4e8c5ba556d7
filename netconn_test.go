package starling_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

func TestNetConnCarriesALineProtocol(t *testing.T) {
	checkGoroutines(t)
	url := serve(t, nil, func(c *starling.Conn) {
		nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
		defer nc.Close()
		// Echo line by line; the client's writes split lines across
		// messages, so this only works if Read joins them into a stream.
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			if _, err := nc.Write(append(sc.Bytes(), '\n')); err != nil {
				return
			}
		}
	})

	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	for _, part := range []string{"hel", "lo\nwor", "ld\n"} {
		if _, err := nc.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(nc)
	for _, want := range []string{"hello\n", "world\n"} {
		got, err := br.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if err := nc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b, err := br.ReadByte(); err == nil {
		t.Fatalf("read after close returned %q and no error", b)
	}
}

func TestNetConnReadDeadline(t *testing.T) {
	checkGoroutines(t)
	url := serve(t, nil, func(c *starling.Conn) {
		c.Read(context.Background()) // never sends; returns when the client goes
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = nc.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}

func TestNetConnPeerNormalCloseIsEOF(t *testing.T) {
	checkGoroutines(t)
	url := serve(t, nil, func(c *starling.Conn) {
		c.Write(context.Background(), starling.MessageText, []byte("last words"))
		go c.Read(context.Background())
		c.Close(starling.StatusNormalClosure, "")
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(starling.NetConn(context.Background(), c, starling.MessageText))
	if err != nil || string(got) != "last words" {
		t.Fatalf("ReadAll = %q, %v; want the message then a clean EOF", got, err)
	}
}
