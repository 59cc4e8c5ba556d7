package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/cmd/starling/internal/server"
	"github.com/starling-ws/starling/internal/pin"
)

func dialT(t *testing.T, url string, opts *starling.DialOptions) *starling.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func readEvent(t *testing.T, c *starling.Conn) server.ChatEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, p, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read chat event: %v", err)
	}
	var ev server.ChatEvent
	if typ != starling.MessageText || json.Unmarshal(p, &ev) != nil {
		t.Fatalf("chat sent %v %q, want a JSON text message", typ, p)
	}
	return ev
}

func TestServePage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for path, want := range map[string]string{"/": "<title>Starling chat</title>", "/chat.js": "new WebSocket", "/style.css": "body"} {
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %s, body without %q", path, resp.Status, want)
		}
	}
	if s.rec["page"] != "http://"+s.addr+"/" || s.rec["chat"] != "ws://"+s.addr+"/chat" {
		t.Errorf("listening record = %v, want page and chat URLs for %s", s.rec, s.addr)
	}
}

func TestServeEcho(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := dialT(t, "ws://"+s.addr+"/echo", nil)
	ctx := context.Background()
	for _, m := range []struct {
		typ starling.MessageType
		p   string
	}{{starling.MessageText, "hello"}, {starling.MessageBinary, "\x00\xff"}, {starling.MessageText, ""}} {
		if err := c.Write(ctx, m.typ, []byte(m.p)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(p) != m.p {
			t.Fatalf("echo of %v %q = %v %q, %v", m.typ, m.p, typ, p, err)
		}
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func TestServeChatJoinMessageLeave(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	alice := dialT(t, "ws://"+s.addr+"/chat?name=alice", nil)
	if ev := readEvent(t, alice); ev.Type != "welcome" || ev.Name != "alice" || !slices.Equal(ev.Members, []string{"alice"}) || ev.Count != 1 {
		t.Fatalf("alice's welcome = %+v", ev)
	}
	bob := dialT(t, "ws://"+s.addr+"/chat?name=bob", nil)
	if ev := readEvent(t, bob); ev.Type != "welcome" || ev.Name != "bob" || !slices.Equal(ev.Members, []string{"alice", "bob"}) || ev.Count != 2 {
		t.Fatalf("bob's welcome = %+v", ev)
	}
	if ev := readEvent(t, alice); ev.Type != "join" || ev.Name != "bob" || ev.Count != 2 {
		t.Fatalf("alice saw %+v, want bob's join", ev)
	}
	if err := bob.Write(context.Background(), starling.MessageText, []byte("hi alice")); err != nil {
		t.Fatal(err)
	}
	for who, c := range map[string]*starling.Conn{"alice": alice, "bob": bob} {
		if ev := readEvent(t, c); ev.Type != "message" || ev.Name != "bob" || ev.Text != "hi alice" {
			t.Fatalf("%s saw %+v, want bob's message", who, ev)
		}
	}
	if err := bob.Close(starling.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	if ev := readEvent(t, alice); ev.Type != "leave" || ev.Name != "bob" || ev.Count != 1 {
		t.Fatalf("alice saw %+v, want bob's leave", ev)
	}
}

func TestServeChatGuestNamesAreUnique(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var names []string
	for _, q := range []string{"?name=sam", "?name=%20sam%0A", ""} {
		c := dialT(t, "ws://"+s.addr+"/chat"+q, nil)
		names = append(names, readEvent(t, c).Name) // welcome: joined before the next dial
	}
	if !slices.Equal(names, []string{"sam", "sam-2", "guest-1"}) {
		t.Fatalf("names = %q, want sam, sam-2, guest-1", names)
	}
}

func TestServeTicker(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := dialT(t, "ws://"+s.addr+"/ticker", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, p, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var q server.Quote
	if err := json.Unmarshal(p, &q); err != nil || q.Type != "quote" || q.Symbol == "" || q.Price <= 0 {
		t.Fatalf("ticker sent %s (%v), want a quote", p, err)
	}
}

func TestServeShutdownSendsGoingAway(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	echo := dialT(t, "ws://"+s.addr+"/echo", nil)
	chat := dialT(t, "ws://"+s.addr+"/chat", nil)
	readEvent(t, chat) // welcome: the room has the member
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*starling.Conn{"echo": echo, "chat": chat} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		var ce *starling.CloseError
		if !errors.As(err, &ce) || ce.Code != starling.StatusGoingAway {
			t.Errorf("%s: read after SIGTERM = %v, want close 1001\n%s", name, err, s.log)
		}
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, s.log)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit:\n%s", s.log)
	}
	if !strings.Contains(s.log.String(), `"msg":"stopped"`) {
		t.Errorf("log lacks the stopped record:\n%s", s.log)
	}
}

func TestServeOrigin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--origin", "*.trusted.example")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := starling.Dial(ctx, "ws://"+s.addr+"/echo", &starling.DialOptions{Origin: "https://evil.example"})
	var he *starling.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
		t.Fatalf("dial from a foreign origin = %v, want 403", err)
	}
	c := dialT(t, "ws://"+s.addr+"/echo", &starling.DialOptions{Origin: "https://app.trusted.example"})
	_ = c.Close(starling.StatusNormalClosure, "")
}

func TestServeReadLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--read-limit", "10")
	c := dialT(t, "ws://"+s.addr+"/echo", nil)
	ctx := context.Background()
	if err := c.Write(ctx, starling.MessageText, []byte("01234567890")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	if code := starling.CloseStatus(err); code != starling.StatusMessageTooBig {
		t.Fatalf("read after an 11-byte message = %v, want close 1009", err)
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--tls-self-signed")
	if s.rec["page"] != "https://"+s.addr+"/" {
		t.Fatalf("page URL = %q, want https", s.rec["page"])
	}
	var logged string
	for _, line := range strings.Split(s.log.String(), "\n") {
		var rec struct{ Msg, Pin string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Pin != "" {
			logged = rec.Pin
		}
	}
	var seen string
	conf := &tls.Config{
		InsecureSkipVerify: true, // the pin is checked below instead
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			cert, err := x509.ParseCertificate(raw[0])
			if err == nil {
				seen = "sha256/" + pin.Digest(cert)
			}
			return err
		},
	}
	c := dialT(t, "wss://"+s.addr+"/echo", &starling.DialOptions{TLSConfig: conf})
	if logged == "" || seen != logged {
		t.Fatalf("server presented pin %q, logged %q", seen, logged)
	}
	_ = c.Close(starling.StatusNormalClosure, "")
}

func TestServeUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--tls-cert", "x.pem"}, "starling: --tls-cert and --tls-key go together\n"},
		{[]string{"serve", "extra"}, "starling: serve takes no arguments, got \"extra\"\n"},
		{[]string{"serve", "--nope"}, "starling: flag provided but not defined: -nope\n"},
		{[]string{"frobnicate"}, "starling: unknown command \"frobnicate\"\n"},
	} {
		r := runInProcess(tc.args...)
		if r.code != 2 || r.stderr != tc.want {
			t.Errorf("starling %q: exit %d, stderr %q; want exit 2, %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
