package client_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// A server that breaks RFC 6455 (a frame with a reserved opcode, section
// 5.2): the client fails the connection with 1002 and reports why.
func TestProtocolViolation(t *testing.T) {
	ln := listen(t)
	closeFrame := make(chan []byte, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		// RFC 6455 section 4.2.2: the accept key.
		h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"))
		nc.Write([]byte{0x83, 0x00}) // FIN, opcode 3 (reserved), empty
		// The client's close frame: 2 header bytes, 4 of mask, then the code.
		buf := make([]byte, 6+125)
		n, _ := io.ReadAtLeast(br, buf, 8)
		closeFrame <- buf[:n]
	}()
	cl := client.New("ws://"+ln.Addr().String(), nil)
	rec := record(t, cl)
	cl.Connect()
	rec.expect(t, client.Connected{})
	ev := rec.next(t)
	if e, ok := ev.(client.Error); !ok || starling.CloseStatus(e.Err) != starling.StatusProtocolError {
		t.Fatalf("got %#v, want Error with status 1002", ev)
	}
	ev = rec.next(t)
	if d, ok := ev.(client.Disconnected); !ok || d.Code != starling.StatusProtocolError {
		t.Fatalf("got %#v, want Disconnected{Code: 1002}", ev)
	}
	f := recv(t, closeFrame)
	if len(f) < 8 || f[0] != 0x88 {
		t.Fatalf("client sent % x, want a close frame", f)
	}
	if code := int(f[6]^f[2])<<8 | int(f[7]^f[3]); code != 1002 {
		t.Errorf("close frame carries %d, want 1002", code)
	}
}
