package starling_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
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

// TestNetConnReadDeadline checks that read deadlines work as on a TCP
// connection: one that passes fails the Read with a timeout, one moved into
// the past from another goroutine cuts short the Read in progress, and the
// stream goes on once the deadline is cleared.
func TestNetConnReadDeadline(t *testing.T) {
	checkGoroutines(t)
	send := make(chan string)
	url := serve(t, nil, func(c *starling.Conn) {
		defer c.CloseNow()
		for msg := range send {
			c.Write(context.Background(), starling.MessageBinary, []byte(msg))
		}
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	defer nc.Close()
	defer close(send) // first: the handler does not read, so would not answer Close
	buf := make([]byte, 64)

	nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = nc.Read(buf)
	checkTimeout(t, "read past the deadline", err)

	nc.SetReadDeadline(time.Time{})
	time.AfterFunc(50*time.Millisecond, func() { nc.SetReadDeadline(time.Now()) })
	_, err = bounded(t, 5*time.Second, func() (int, error) { return nc.Read(buf) })
	checkTimeout(t, "read whose deadline moved into the past", err)

	nc.SetReadDeadline(time.Time{})
	send <- "still open"
	n, err := nc.Read(buf)
	if err != nil || string(buf[:n]) != "still open" {
		t.Fatalf("read after the timeouts = %q, %v", buf[:n], err)
	}
}

// TestNetConnWriteDeadline checks that a write deadline moved into the
// past cuts short a Write waiting for a peer that does not read, that
// later Writes fail at once, and that the stream stays whole: once the
// peer reads, it gets exactly the bytes the Writes reported written, in
// order, and then what is written after the deadline is cleared.
func TestNetConnWriteDeadline(t *testing.T) {
	checkGoroutines(t)
	startReading := make(chan struct{})
	received := make(chan []byte, 1)
	url := serve(t, nil, func(c *starling.Conn) {
		nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
		defer nc.Close()
		<-startReading
		var got bytes.Buffer
		buf := make([]byte, 32<<10)
		for !bytes.HasSuffix(got.Bytes(), []byte("end")) {
			n, err := nc.Read(buf)
			if err != nil {
				t.Error(err)
				break
			}
			got.Write(buf[:n])
		}
		received <- got.Bytes()
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	defer nc.Close()
	time.AfterFunc(200*time.Millisecond, func() { nc.SetWriteDeadline(time.Now()) })
	var sent bytes.Buffer
	_, err = bounded(t, 10*time.Second, func() (int, error) {
		for i := 0; ; i++ {
			chunk := bytes.Repeat([]byte{byte(i)}, 64<<10)
			n, err := nc.Write(chunk)
			sent.Write(chunk[:n])
			if err != nil {
				return 0, err
			}
		}
	})
	checkTimeout(t, "write whose deadline moved into the past", err)
	n, err := nc.Write([]byte("x"))
	checkTimeout(t, "write past the deadline", err)
	if n != 0 {
		t.Fatalf("write past the deadline wrote %d bytes", n)
	}

	nc.SetWriteDeadline(time.Time{})
	close(startReading)
	if _, err := nc.Write([]byte("end")); err != nil {
		t.Fatalf("write once the deadline is cleared: %v", err)
	}
	sent.WriteString("end")
	if got := <-received; !bytes.Equal(got, sent.Bytes()) {
		t.Fatalf("the peer read %d bytes; %d were reported written", len(got), sent.Len())
	}
}

// TestNetConnServesHTTP runs an HTTP/1.1 server over a NetConn and shuts it
// down. net/http reads ahead while a handler runs and, when the handler
// returns, cuts that read short by moving the read deadline into the past;
// if the read did not end, Shutdown would wait for the connection forever.
func TestNetConnServesHTTP(t *testing.T) {
	checkGoroutines(t)
	httpSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})}
	served := make(chan error, 1)
	url := serve(t, nil, func(c *starling.Conn) {
		served <- httpSrv.Serve(&oneConnListener{conn: starling.NetConn(context.Background(), c, starling.MessageBinary)})
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nc, nil },
	}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/one", "/two"} { // the second on the same connection
		resp, err := client.Get("http://starling" + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "hello "+path {
			t.Fatalf("GET %s = %q, %v", path, body, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve = %v", err)
	}
}

// oneConnListener is a net.Listener that accepts conn once, then waits
// until it is closed.
type oneConnListener struct {
	conn   net.Conn
	once   sync.Once
	closed chan struct{}
	mu     sync.Mutex
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.closed == nil {
		l.closed = make(chan struct{})
	}
	c, closed := l.conn, l.closed
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-closed
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed == nil {
		l.closed = make(chan struct{})
	}
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{} }

// checkTimeout fails the test unless err is a deadline's timeout, as the
// net package reports it.
func checkTimeout(t *testing.T, what string, err error) {
	t.Helper()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: %v (%T), want a timeout with os.ErrDeadlineExceeded", what, err, err)
	}
}

// bounded runs f and fails the test if it has not returned after d.
func bounded(t *testing.T, d time.Duration, f func() (int, error)) (int, error) {
	t.Helper()
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		n, err := f()
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		return 0, nil
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
	nc := starling.NetConn(context.Background(), c, starling.MessageText)
	got, err := io.ReadAll(nc)
	if err != nil || string(got) != "last words" {
		t.Fatalf("ReadAll = %q, %v; want the message then a clean EOF", got, err)
	}
	// A write meets the closed stream as on a socket: an error, not the
	// reader's io.EOF, that still says how the peer closed.
	_, err = nc.Write([]byte("too late"))
	var op *net.OpError
	if !errors.As(err, &op) || errors.Is(err, io.EOF) || starling.CloseStatus(err) != starling.StatusNormalClosure {
		t.Fatalf("Write after the peer's normal close = %v; want a *net.OpError carrying 1000", err)
	}
}

// TestNetConnAfterClose checks the net.Conn contract once Close has
// returned: Read and Write fail at once with net.ErrClosed, even before the
// close handshake Close started has sent anything.
func TestNetConnAfterClose(t *testing.T) {
	checkGoroutines(t)
	url := serve(t, nil, func(c *starling.Conn) {
		c.Read(context.Background())
	})
	c, _, err := starling.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	if err := nc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n, err := nc.Write([]byte("late")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %d, %v; want net.ErrClosed", n, err)
	}
	if n, err := nc.Read(make([]byte, 8)); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %d, %v; want net.ErrClosed", n, err)
	}
}
