package starling

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzReadLimit keeps fuzzed messages, compressed or not, small.
const fuzzReadLimit = 1 << 20

// FuzzReadFrames feeds arbitrary bytes as frames to a Conn over net.Pipe,
// as a server (mode bit 0 clear) or a client (set), with permessage-deflate
// negotiated if mode bit 1 is set, reading with Read (bit 2 clear) or
// ReadSlice. The Conn must never panic or hang; each message it returns
// must be a data message within the read limit, text must be valid UTF-8,
// and the final error must carry a close status. Read and ReadSlice must
// return the same messages and end with the same status.
func FuzzReadFrames(f *testing.F) {
	mask := func(fr rawFrame) []byte { return encodeFrame(fr, true, [4]byte{1, 2, 3, 4}) }
	plain := func(fr rawFrame) []byte { return encodeFrame(fr, false, [4]byte{}) }
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	f.Add(mask(rawFrame{fin: true, op: 0x1, payload: []byte("hello")}), byte(0))
	f.Add(plain(rawFrame{fin: true, op: 0x1, payload: []byte("hello")}), byte(1))
	f.Add(join(mask(rawFrame{op: 0x1, payload: []byte("κό")}), mask(rawFrame{fin: true, op: 0x9, payload: []byte("p")}),
		mask(rawFrame{fin: true, op: 0x0, payload: []byte("σμε")})), byte(0))
	f.Add(join(plain(rawFrame{op: 0x2, payload: make([]byte, 300)}), plain(rawFrame{fin: true, op: 0x0, payload: make([]byte, 70000)})), byte(1))
	f.Add(mask(rawFrame{fin: true, op: 0x8, payload: []byte{0x0f, 0xa1, 'b', 'y', 'e'}}), byte(0))
	f.Add(mask(rawFrame{fin: true, op: 0x1, payload: []byte("\xf4\x90\x80\x80")}), byte(0))
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, byte(0))
	f.Add(mask(rawFrame{fin: true, op: 0x2, payload: make([]byte, 5), lenForm: 16}), byte(0))
	// "Hello" compressed, from RFC 7692 section 7.2.3.1.
	f.Add(mask(rawFrame{fin: true, rsv: 0x40, op: 0x1, payload: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}), byte(2))
	f.Add(plain(rawFrame{fin: true, rsv: 0x40, op: 0x1, payload: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}), byte(3))
	f.Add(join(mask(rawFrame{rsv: 0x40, op: 0x1, payload: []byte{0xf2, 0x48}}), mask(rawFrame{fin: true, op: 0x0, payload: []byte{0xcd, 0xc9, 0xc9, 0x07, 0x00}})), byte(2))

	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		client, deflate := mode&1 != 0, mode&2 != 0
		peer, local := net.Pipe()
		defer peer.Close()
		go io.Copy(io.Discard, peer) // take the pongs and close frames
		go func() {
			peer.Write(data)
			peer.Close()
		}()
		readFuzzedFrames(t, local, client, deflate, mode&4 != 0)

		// Read and ReadSlice must agree on every input. Over a pipe the
		// peer's close races the pongs written back, so they read from
		// a transport on which writes always succeed.
		msgs, code := readFuzzedFrames(t, &fuzzTransport{Reader: bytes.NewReader(data)}, client, deflate, false)
		sliced, slicedCode := readFuzzedFrames(t, &fuzzTransport{Reader: bytes.NewReader(data)}, client, deflate, true)
		same := func(a, b message) bool { return a.typ == b.typ && bytes.Equal(a.data, b.data) }
		if code != slicedCode || !slices.EqualFunc(msgs, sliced, same) {
			t.Fatalf("Read returned %d messages and ended with %v, ReadSlice %d messages and %v", len(msgs), code, len(sliced), slicedCode)
		}
	})
}

// fuzzTransport reads from its Reader and takes every write.
type fuzzTransport struct{ io.Reader }

func (*fuzzTransport) Write(p []byte) (int, error) { return len(p), nil }
func (*fuzzTransport) Close() error                { return nil }

// readFuzzedFrames reads frames from rwc with Read, or ReadSlice if slice
// is set, checks each message and the final error, and returns the
// messages with the final error's close status.
func readFuzzedFrames(t *testing.T, rwc io.ReadWriteCloser, client, deflate, slice bool) ([]message, StatusCode) {
	cfg := connConfig{rwc: rwc, client: client, readLimit: fuzzReadLimit}
	if deflate {
		h := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}
		cfg.ext, _ = acceptExtensions(h, &CompressionOptions{Mode: CompressionContextTakeover})
		if cfg.ext == nil {
			t.Fatal("permessage-deflate was not negotiated")
		}
	}
	c := newConn(cfg)
	defer c.CloseNow()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	read := c.Read
	if slice {
		read = c.ReadSlice
	}
	var msgs []message
	for {
		typ, msg, err := read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("Read hung")
			}
			if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Read ended with io.EOF: %v", err)
			}
			if CloseStatus(err) == -1 {
				t.Fatalf("Read error %v carries no close status", err)
			}
			return msgs, CloseStatus(err)
		}
		switch {
		case typ != MessageText && typ != MessageBinary:
			t.Fatalf("Read returned a message of type %v", typ)
		case len(msg) > fuzzReadLimit:
			t.Fatalf("Read returned %d bytes, over the limit of %d", len(msg), fuzzReadLimit)
		case typ == MessageText && !utf8.Valid(msg):
			t.Fatalf("Read returned invalid UTF-8 text %q", msg)
		}
		msgs = append(msgs, message{typ, bytes.Clone(msg)})
	}
}

// FuzzCheckRequest feeds arbitrary header values into the server's
// handshake checks through a parsed request. They must never panic; a
// request they accept must follow RFC 6455 section 4.2.1, and the 101
// answer built for it must pass the client's checks (section 4.1).
func FuzzCheckRequest(f *testing.F) {
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", rfcKey, "13", "", "example.com", "chat, superchat")
	f.Add("GET", "HTTP/1.1", "WebSocket", "keep-alive, Upgrade", rfcKey, "13", "http://example.com", "example.com", "")
	f.Add("POST", "HTTP/1.1", "websocket", "Upgrade", rfcKey, "13", "", "example.com", "")
	f.Add("GET", "HTTP/1.0", "websocket", "Upgrade", rfcKey, "13", "", "example.com", "")
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "AAAA", "8", "https://evil.example", "example.com", "")
	f.Add("GET", "HTTP/1.1", "h2c", "close", "not base64", "", "null", "", ",,,")
	f.Add("GET", "HTTP/1.1", "websocket", "upgrade", " "+rfcKey+" ", "13", "HTTP://EXAMPLE.COM:80", "example.com:80", "a,b")

	f.Fuzz(func(t *testing.T, method, proto, upgrade, connection, key, version, origin, host, protocols string) {
		var b strings.Builder
		b.WriteString(method + " /chat " + proto + "\r\nHost: " + host + "\r\n")
		for _, h := range [][2]string{{"Upgrade", upgrade}, {"Connection", connection}, {"Sec-WebSocket-Key", key},
			{"Sec-WebSocket-Version", version}, {"Origin", origin}, {"Sec-WebSocket-Protocol", protocols}} {
			if h[1] != "" {
				b.WriteString(h[0] + ": " + h[1] + "\r\n")
			}
		}
		b.WriteString("\r\n")
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
		if err != nil {
			return // not HTTP; the server never calls Accept for it
		}
		gotKey, err := checkRequest(r)
		_ = checkOrigin(r, &AcceptOptions{})
		_ = checkOrigin(r, &AcceptOptions{OriginPatterns: []string{"*.example.com", "[", "*"}})
		if err != nil {
			var he *handshakeError
			if !errors.As(err, &he) || !errors.Is(err, ErrBadHandshake) {
				t.Fatalf("checkRequest error %v is not a handshakeError", err)
			}
			if he.status != 400 && he.status != 405 && he.status != 426 {
				t.Fatalf("refused with status %d", he.status)
			}
			if strings.ContainsAny(he.reason, "\r\n") {
				t.Fatalf("reason %q is not one line", he.reason)
			}
			return
		}
		raw, err := base64.StdEncoding.DecodeString(gotKey)
		switch {
		case r.Method != "GET" || !r.ProtoAtLeast(1, 1):
			t.Fatalf("accepted %s %s", r.Method, r.Proto)
		case !hasToken(r.Header, "Upgrade", "websocket") || !hasToken(r.Header, "Connection", "upgrade"):
			t.Fatalf("accepted Upgrade %q Connection %q", r.Header.Get("Upgrade"), r.Header.Get("Connection"))
		case r.Header.Get("Sec-WebSocket-Version") != "13":
			t.Fatalf("accepted version %q", r.Header.Get("Sec-WebSocket-Version"))
		case err != nil || len(raw) != 16:
			t.Fatalf("accepted key %q", gotKey)
		}
		// Round trip: the server's answer satisfies the client.
		offered := headerTokens(r.Header, "Sec-WebSocket-Protocol")
		subp := selectSubprotocol(r.Header, []string{"superchat", "chat"})
		var resp bytes.Buffer
		if err := writeSwitching(&resp, http.Header{}, gotKey, subp, ""); err != nil {
			t.Fatal(err)
		}
		parsed, err := http.ReadResponse(bufio.NewReader(&resp), nil)
		if err != nil {
			t.Fatalf("the 101 answer does not parse: %v", err)
		}
		if err := checkResponse(parsed, gotKey, offered); err != nil {
			t.Fatalf("the client refuses the server's answer: %v", err)
		}
	})
}

// FuzzCheckResponse feeds arbitrary bytes to the client's handshake checks
// as the server's response. They must never panic, read at most 1 KiB of a
// refusal's body, and accept only a 101 with the right Upgrade, Connection
// and Sec-WebSocket-Accept and an offered subprotocol (RFC 6455 section
// 4.1). Extensions are checked by dialExtensions, after.
func FuzzCheckResponse(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n"
	f.Add(ok+"\r\n", "chat")
	f.Add(ok+"Sec-WebSocket-Protocol: chat\r\n\r\n", "chat")
	f.Add(ok+"Sec-WebSocket-Protocol: chat, other\r\n\r\n", "chat,other")
	f.Add(ok+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", "")
	f.Add("HTTP/1.1 403 Forbidden\r\nContent-Length: 18\r\n\r\norigin not allowed", "")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "")
	f.Add("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-accept: "+rfcAccept+"\r\n\r\n", "")
	f.Add("HTTP/1.0 101 Switching Protocols\r\n\r\n", "")

	f.Fuzz(func(t *testing.T, response, offered string) {
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(response)), nil)
		if err != nil {
			return
		}
		var protos []string
		if offered != "" {
			protos = strings.Split(offered, ",")
		}
		err = checkResponse(resp, rfcKey, protos)
		var he *HandshakeError
		if errors.As(err, &he) {
			if resp.StatusCode == 101 || he.StatusCode != resp.StatusCode || len(he.Body) > maxErrorBody {
				t.Fatalf("HandshakeError{%d, %d-byte body} for status %d", he.StatusCode, len(he.Body), resp.StatusCode)
			}
			_ = he.Error()
			return
		}
		if err != nil {
			return
		}
		switch {
		case resp.StatusCode != 101:
			t.Fatalf("accepted status %d", resp.StatusCode)
		case resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept:
			t.Fatalf("accepted Sec-WebSocket-Accept %q", resp.Header.Get("Sec-WebSocket-Accept"))
		case !hasToken(resp.Header, "Upgrade", "websocket") || !hasToken(resp.Header, "Connection", "upgrade"):
			t.Fatalf("accepted Upgrade %q Connection %q", resp.Header.Get("Upgrade"), resp.Header.Get("Connection"))
		}
		for _, p := range headerTokens(resp.Header, "Sec-WebSocket-Protocol") {
			found := false
			for _, o := range protos {
				found = found || o == p
			}
			if !found {
				t.Fatalf("accepted unoffered subprotocol %q", p)
			}
		}
	})
}

// FuzzReadHandshake feeds arbitrary bytes to a server that reads its
// handshakes itself. Whatever arrives, the server answers with a parsable
// HTTP response (a 101 only for a valid handshake) or closes, and never
// panics or hangs.
func FuzzReadHandshake(f *testing.F) {
	f.Add([]byte(handshakeRequest("GET / HTTP/1.1")))
	f.Add([]byte(handshakeRequest("GET /chat?x=1 HTTP/1.1", "Sec-WebSocket-Extensions: permessage-deflate") +
		string(encodeFrame(rawFrame{fin: true, op: 0x1, payload: []byte("hi")}, true, [4]byte{1, 2, 3, 4}))))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n"))
	// Loopback TCP, so the client can half-close: the server sees the end
	// of the input instead of waiting for more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		answer := make(chan []byte, 1)
		go func() {
			_, _ = client.Write(in)
			_ = client.(*net.TCPConn).CloseWrite()
			b, _ := io.ReadAll(client)
			answer <- b
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		hs, err := ReadHandshake(ctx, server)
		if err == nil {
			var c *Conn
			if c, err = hs.Accept(&AcceptOptions{Compression: CompressionOptions{Mode: CompressionContextTakeover}}); err == nil {
				c.CloseNow()
			}
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrBadHandshake) {
			t.Fatalf("error %v is not ErrBadHandshake", err)
		}
		b := <-answer
		if len(b) == 0 {
			return
		}
		resp, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
		if perr != nil {
			t.Fatalf("unparsable answer %q: %v", b, perr)
		}
		if (resp.StatusCode == http.StatusSwitchingProtocols) != (err == nil) {
			t.Fatalf("answered %s, but the handshake's error is %v", resp.Status, err)
		}
	})
}

// FuzzParseWebSocketURL checks the URL rules of RFC 6455 section 3 on any
// string: a URL Dial accepts is ws or wss, names a host, and has no
// fragment; one it refuses gets an error that says the URL is invalid.
func FuzzParseWebSocketURL(f *testing.F) {
	for _, s := range []string{"ws://example.com/chat?x=1", "https://[::1]:443/", "ws://:80/", "wss://a/#", "ws://a/%23", "WS://A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseWebSocketURL(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "starling: invalid URL") {
				t.Fatalf("parseWebSocketURL(%q): error %q does not say the URL is invalid", s, err)
			}
			return
		}
		if u.Scheme != "ws" && u.Scheme != "wss" || u.Hostname() == "" || strings.Contains(u.String(), "#") {
			t.Fatalf("parseWebSocketURL(%q) accepted %q", s, u)
		}
	})
}
