package starling_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/starling-ws/starling"
)

// echo is the handler of the examples: it sends every message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := starling.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the request with an HTTP error
	}
	defer c.CloseNow()
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, msg); err != nil {
			return
		}
	}
}

// The server side: upgrade a request, then read and write messages until
// the client closes.
func ExampleAccept() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Subprotocols: []string{"echo.v1"}})
		if err != nil {
			log.Print(err)
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if starling.CloseStatus(err) == starling.StatusNormalClosure {
				return // the client said goodbye
			}
			if err != nil {
				log.Print(err)
				return
			}
			c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, &starling.DialOptions{Subprotocols: []string{"echo.v1"}})
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, starling.MessageText, []byte("hi"))
	_, msg, _ := c.Read(ctx)
	fmt.Printf("%s over %s\n", msg, c.Subprotocol())
	c.Close(starling.StatusNormalClosure, "")
	// Output: echo: hi over echo.v1
}

// The client side: connect, exchange a message, and close with the close
// handshake.
func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "ws://", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := starling.Dial(ctx, url, &starling.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer example"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println(resp.Status)

	if err := c.Write(ctx, starling.MessageText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	if err := c.Close(starling.StatusNormalClosure, "done"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 101 Switching Protocols
	// text hello
}

// A refused handshake tells why.
func ExampleHandshakeError() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := starling.Dial(ctx, srv.URL, &starling.DialOptions{Origin: "https://elsewhere.example"})
	fmt.Println(err)
	// Output: starling: handshake refused: 403 Forbidden: origin not allowed: https://elsewhere.example
}

// Write sends one message; Read returns the next one whole.
func ExampleConn_Write() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	c.Write(ctx, starling.MessageBinary, []byte{0xde, 0xad, 0xbe, 0xef})
	c.Write(ctx, starling.MessageText, []byte("κόσμε"))
	for range 2 {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if typ == starling.MessageText {
			fmt.Printf("%v %s\n", typ, msg)
		} else {
			fmt.Printf("%v %x\n", typ, msg)
		}
	}
	c.Close(starling.StatusNormalClosure, "")
	// Output:
	// binary deadbeef
	// text κόσμε
}

// Read returns a *CloseError when the peer closes; CloseStatus gets its
// code.
func ExampleConn_Read() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), starling.MessageText, []byte("one message, then goodbye"))
		c.Close(4001, "bye")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			fmt.Println("closed with", starling.CloseStatus(err), err)
			return
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// one message, then goodbye
	// closed with 4001 status 4001: "bye"
}

// A read whose context ends while it waits for a message leaves the
// connection open: a loop can wait a while for the peer, do something
// else, and read again.
func ExampleConn_Read_timeout() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	_, _, err = c.Read(short) // the echo server says nothing unasked
	cancelShort()
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("nothing yet; asking")
	}
	if err := c.Write(ctx, starling.MessageText, []byte("still there?")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)
	// Output:
	// nothing yet; asking
	// still there?
}

// NetConn gives a stream over a connection, as a net.Conn whose deadlines
// behave as TCP's: a Read cut short by one leaves the stream as it was.
func ExampleNetConn() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	c, _, err := starling.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	nc := starling.NetConn(context.Background(), c, starling.MessageBinary)
	defer nc.Close()
	buf := make([]byte, 64)
	nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := nc.Read(buf); errors.Is(err, os.ErrDeadlineExceeded) {
		fmt.Println("timed out")
	}
	nc.SetReadDeadline(time.Time{})
	fmt.Fprintf(nc, "hello, stream")
	n, err := io.ReadAtLeast(nc, buf, len("hello, stream"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf[:n])
	// Output:
	// timed out
	// hello, stream
}

// A loop that handles each message before it reads the next can read with
// ReadSlice: the payload is lent from the connection's buffers, not copied,
// and stays valid until the next read.
func ExampleConn_ReadSlice() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	for _, s := range []string{"lent", "not copied"} {
		if err := c.Write(ctx, starling.MessageText, []byte(s)); err != nil {
			log.Fatal(err)
		}
		_, msg, err := c.ReadSlice(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// lent
	// not copied
}

// Writer and Reader stream a message too large to hold in memory.
func ExampleConn_Writer() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	go func() {
		w, err := c.Writer(ctx, starling.MessageText)
		if err != nil {
			return
		}
		for range 1000 {
			io.WriteString(w, "streamed line\n")
		}
		w.Close()
	}()
	_, r, err := c.Reader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	fmt.Println(n, err)
	// Output: 14000 <nil>
}

// Stats counts what a connection carried: here two 5-byte messages each
// way, in frames of 2-byte headers, those from the client masked with a
// 4-byte key.
func ExampleConn_Stats() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	for _, msg := range []string{"hello", "world"} {
		if err := c.Write(ctx, starling.MessageText, []byte(msg)); err != nil {
			log.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			log.Fatal(err)
		}
	}
	s := c.Stats()
	fmt.Printf("wrote %d messages in %d bytes, read %d in %d\n", s.MessagesWritten, s.BytesWritten, s.MessagesRead, s.BytesRead)
	// Output: wrote 2 messages in 22 bytes, read 2 in 14
}

// Broadcast: a prepared message is encoded (and compressed) once, and the
// same bytes go to every connection. The server only writes, so CloseRead
// answers the clients' pings and close handshakes meanwhile.
func ExamplePreparedMessage() {
	accepted := make(chan *starling.Conn)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		done := c.CloseRead(r.Context()).Done()
		accepted <- c
		<-done // until the client leaves
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var subscribers, clients []*starling.Conn
	for range 3 {
		c, _, err := starling.Dial(ctx, srv.URL, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.CloseNow()
		clients = append(clients, c)
		subscribers = append(subscribers, <-accepted)
	}

	pm, err := starling.NewPreparedMessage(starling.MessageText, []byte("news for everyone"))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range subscribers {
		if err := s.WritePrepared(ctx, pm); err != nil {
			log.Print(err)
		}
	}
	for i, c := range clients {
		_, msg, _ := c.Read(ctx)
		fmt.Printf("client %d: %s\n", i, msg)
		c.Close(starling.StatusNormalClosure, "")
	}
	// Output:
	// client 0: news for everyone
	// client 1: news for everyone
	// client 2: news for everyone
}
