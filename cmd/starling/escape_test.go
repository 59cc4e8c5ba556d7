package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// hostile is the text of a server that tries to drive the user's
// terminal: set the window title (OSC 0), clear the screen (CSI 2J), and
// move back over what was printed.
const hostile = "hi \x1b]0;PWNED\x07\x1b[2J\rover\bX \u009b31m"

// TestConnectInteractiveEscapesControls checks that a received message
// cannot send escape sequences to the user's terminal: its control
// characters are shown escaped.
func TestConnectInteractiveEscapesControls(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		if err := c.Write(ctx, starling.MessageText, []byte(hostile)); err != nil {
			return
		}
		_, _, _ = c.Read(ctx)
	}))
	defer srv.Close()
	master, sc, exited := startInTerminal(t, "NO_COLOR=1", "connect", "ws"+strings.TrimPrefix(srv.URL, "http"))
	sc.waitFor(t, regexp.MustCompile(`< hi `))
	sc.waitFor(t, regexp.MustCompile(`31m`))
	if _, err := master.Write([]byte{4}); err != nil { // Ctrl-D
		t.Fatal(err)
	}
	sc.waitExit(t, exited)
	out := sc.buf.String()
	if strings.Contains(out, "\x1b]") || strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\u009b") || strings.Contains(out, "\b") {
		t.Fatalf("the server's escape sequences reached the terminal:\n%q", out)
	}
	if want := `< hi \x1b]0;PWNED\a\x1b[2J\rover\bX \u009b31m`; !strings.Contains(out, want) {
		t.Fatalf("the message is not shown escaped as %s:\n%q", want, out)
	}
}

// TestConnectErrorLineEscapesControls checks that the one line printed on
// stderr when the server refuses stays plain when the refusal's body holds
// escape sequences.
func TestConnectErrorLineEscapesControls(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(hostile))
	}))
	defer srv.Close()
	r := runStarling(t, nil, "connect", "ws"+strings.TrimPrefix(srv.URL, "http"))
	// The library's HandshakeError already shows the body's control
	// characters as '?'; the command would quote any that came through.
	want := "starling: handshake refused: 403 Forbidden: hi ?]0;PWNED??[2J\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
}
