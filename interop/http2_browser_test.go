package interop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/browser"
	"github.com/starling-ws/starling/interop/internal/matrix"
	"github.com/starling-ws/starling/interop/internal/testca"
)

// TestChromiumOverHTTP2 checks Starling's server side of RFC 8441 against
// a browser: Chromium opens a secure WebSocket as a stream of the HTTP/2
// connection its page came over, once the server has advertised extended
// CONNECT, and the messages and the close handshake cross it, as does the
// 1009 of a message over the read limit. The server
// tells the page which protocol the WebSocket's request came by, so a
// fall back to HTTP/1.1 fails the test. Go's server needs
// GODEBUG=http2xconnect=1 at process start, so it runs in a child process.
func TestChromiumOverHTTP2(t *testing.T) {
	if os.Getenv("STARLING_H2_TLS_SERVER") == "1" {
		serveHTTP2TLS(t)
		return
	}
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	_, certFile, keyFile, err := ca.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startChild(t, "TestChromiumOverHTTP2", "STARLING_H2_TLS_SERVER=1",
		"STARLING_TLS_CERT="+certFile, "STARLING_TLS_KEY="+keyFile)
	defer stop()

	br, err := browser.Start(browser.Options{TrustedCAs: [][]byte{ca.PEM}, Logf: t.Logf})
	matrix.Require(t, err)
	defer br.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := br.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Navigate(ctx, "https://"+addr+"/"); err != nil {
		t.Fatalf("Navigate: %v\n%s", err, br.Output())
	}
	var got struct {
		Messages []string
		Code     int
		Reason   string
		Clean    bool
	}
	const script = `new Promise((resolve) => {
		const ws = new WebSocket("wss://" + location.host + "/echo");
		const messages = [];
		ws.onmessage = (e) => {
			messages.push(e.data);
			if (messages.length === 1) ws.send("héllo over HTTP/2 ☃");
			else if (messages.length === 2) ws.send("x".repeat(100000));
			else ws.close(4001, "bye");
		};
		ws.onclose = (e) => resolve({Messages: messages.map((m) => m.slice(0, 40)), Code: e.code, Reason: e.reason, Clean: e.wasClean});
	})`
	if err := p.Eval(ctx, script, &got); err != nil {
		t.Fatalf("%v\n%s", err, br.Output())
	}
	want := []string{"request over HTTP/2.0", "héllo over HTTP/2 ☃", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
	if len(got.Messages) != len(want) || got.Messages[0] != want[0] || got.Messages[1] != want[1] || got.Messages[2] != want[2] {
		t.Fatalf("the page got %q, want %q", got.Messages, want)
	}
	// Starling echoes the code of the close frame it received (RFC 6455
	// section 5.5.1).
	if got.Code != 4001 || !got.Clean {
		t.Fatalf("the page's WebSocket closed with %d %q (clean %v), want a clean 4001", got.Code, got.Reason, got.Clean)
	}

	// A message over the read limit fails the stream's WebSocket with 1009,
	// and the browser sees that code.
	const tooBig = `new Promise((resolve) => {
		const ws = new WebSocket("wss://" + location.host + "/echo?limit=1024");
		ws.onmessage = () => ws.send("x".repeat(1025));
		ws.onclose = (e) => resolve({Messages: [], Code: e.code, Reason: e.reason, Clean: e.wasClean});
	})`
	if err := p.Eval(ctx, tooBig, &got); err != nil {
		t.Fatalf("%v\n%s", err, br.Output())
	}
	if got.Code != int(starling.StatusMessageTooBig) {
		t.Fatalf("over the read limit, the page's WebSocket closed with %d %q, want 1009", got.Code, got.Reason)
	}
}

// serveHTTP2TLS is the child process of TestChromiumOverHTTP2: an HTTPS
// server, HTTP/2 by ALPN, whose /echo tells each WebSocket the protocol of
// its request, then echoes (with the read limit ?limit= asks for) until the
// parent closes stdin.
func serveHTTP2TLS(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>WebSockets over HTTP/2</title>`))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		opts := &starling.AcceptOptions{}
		if r.URL.Query().Has("limit") {
			opts.ReadLimit, _ = strconv.ParseInt(r.URL.Query().Get("limit"), 10, 64)
		}
		c, err := starling.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		if c.Write(ctx, starling.MessageText, []byte("request over "+r.Proto)) != nil {
			return
		}
		// On HTTP/2 the WebSocket lives as long as this handler.
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if c.Write(ctx, typ, p) != nil {
				return
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() {
		err := srv.ServeTLS(ln, os.Getenv("STARLING_TLS_CERT"), os.Getenv("STARLING_TLS_KEY"))
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	}()
	os.Stdout.WriteString(ln.Addr().String() + "\n")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	srv.Close()
}
