package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/starling-ws/starling/interop/internal/browser"
	"github.com/starling-ws/starling/interop/internal/matrix"
)

// TestChatPageInChromium runs "starling serve" and has two Chromium pages
// and a "starling connect" client chat in its room: each sees the others
// join, speak and leave; after a restart of the server on the same address
// the pages reconnect by themselves. A third page, which only watches,
// is photographed at the end into artifacts/chat.png.
func TestChatPageInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildStarling(t)
	srv := startStarlingServe(t, bin, "127.0.0.1:0")
	base := "http://" + srv.addr

	br, err := browser.Start(browser.Options{Logf: t.Logf})
	matrix.Require(t, err)
	defer br.Close()
	viewer := startViewer(t, ctx, base+"/?name=viewer")

	alice, bob := openChat(t, ctx, br, base, "alice"), openChat(t, ctx, br, base, "bob")
	waitText(t, ctx, alice, "bob joined")

	cli := startConnect(t, bin, "ws://"+srv.addr+"/chat?name=cli")
	cli.expect(t, func(ev chatEvent) bool { return ev.Type == "welcome" && ev.Name == "cli" })
	waitText(t, ctx, alice, "cli joined")
	waitText(t, ctx, bob, "cli joined")

	say(t, ctx, alice, "hello from alice")
	waitText(t, ctx, bob, "alicehello from alice")
	cli.expect(t, func(ev chatEvent) bool {
		return ev.Type == "message" && ev.Name == "alice" && ev.Text == "hello from alice"
	})

	say(t, ctx, bob, "hi alice, bob here")
	waitText(t, ctx, alice, "bobhi alice, bob here")
	cli.expect(t, func(ev chatEvent) bool { return ev.Type == "message" && ev.Name == "bob" })

	cli.send(t, "greetings from the terminal")
	waitText(t, ctx, alice, "cligreetings from the terminal")
	waitText(t, ctx, bob, "cligreetings from the terminal")
	cli.finish(t)
	waitText(t, ctx, alice, "cli left")

	// Restart the server on the same address: the pages are told 1001,
	// then reconnect with backoff and join again under their names.
	srv.stop(t)
	waitEval(t, ctx, alice, `document.getElementById("status").textContent.startsWith("server went away")`)
	startStarlingServe(t, bin, srv.addr) // stopped at the test's cleanup
	for _, p := range []*browser.Page{alice, bob} {
		waitEval(t, ctx, p, `document.getElementById("log").innerText.split("You joined as").length === 3`)
		waitEval(t, ctx, p, `document.getElementById("status").textContent === "connected"`)
	}
	say(t, ctx, alice, "still here after the restart")
	waitText(t, ctx, bob, "alicestill here after the restart")

	viewer.screenshot(t, ctx, "alicestill here after the restart", filepath.Join("artifacts", "chat.png"))
}

// buildStarling builds the command from the root module, where its
// dependencies are recorded.
func buildStarling(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "starling")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/starling")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/starling: %v\n%s", err, out)
	}
	return bin
}

type serveProc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startStarlingServe runs "starling serve" and reads its address from the
// "listening" log record.
func startStarlingServe(t *testing.T, bin, addr string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--log-json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProc{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				found <- rec.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.addr = <-found:
		return s
	case err := <-s.done:
		t.Fatalf("starling serve exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("starling serve did not log its address")
	}
	return nil
}

func (s *serveProc) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("starling serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Error("starling serve did not stop on SIGTERM")
	}
}

// openChat opens the chat page as name and waits until it has joined.
func openChat(t *testing.T, ctx context.Context, br *browser.Browser, base, name string) *browser.Page {
	t.Helper()
	p, err := br.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Navigate(ctx, base+"/?name="+name); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, p, "You joined as "+name)
	return p
}

// say types text into the page's box and submits the form, as a user would.
func say(t *testing.T, ctx context.Context, p *browser.Page, text string) {
	t.Helper()
	q, _ := json.Marshal(text)
	js := fmt.Sprintf(`(() => {
		document.getElementById("text").value = %s;
		document.getElementById("send").requestSubmit();
		return true;
	})()`, q)
	if err := p.Eval(ctx, js, nil); err != nil {
		t.Fatal(err)
	}
}

// waitText waits until the page's chat log contains s. The log's text
// runs a line's name and message together ("alicehello").
func waitText(t *testing.T, ctx context.Context, p *browser.Page, s string) {
	t.Helper()
	q, _ := json.Marshal(s)
	waitEval(t, ctx, p, fmt.Sprintf(`document.getElementById("log").textContent.includes(%s)`, q))
}

// waitEval polls a boolean expression until it holds.
func waitEval(t *testing.T, ctx context.Context, p *browser.Page, expr string) {
	t.Helper()
	for {
		var ok bool
		if err := p.Eval(ctx, expr, &ok); err != nil {
			t.Fatalf("eval %s: %v", expr, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			var log string
			_ = p.Eval(context.Background(), `document.getElementById("log").textContent`, &log)
			t.Fatalf("timed out waiting for %s; the page's log: %q", expr, log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type chatEvent struct {
	Type, Name, Text string
}

// connectProc is a "starling connect" in pipe mode: lines in, events out.
type connectProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan chatEvent
	stderr bytes.Buffer
	mu     sync.Mutex
}

func startConnect(t *testing.T, bin, url string) *connectProc {
	t.Helper()
	c := &connectProc{cmd: exec.Command(bin, "connect", url), events: make(chan chatEvent, 100)}
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.stderr}
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev chatEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				c.events <- ev
			}
		}
	}()
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	return c
}

// expect reads events until one matches.
func (c *connectProc) expect(t *testing.T, match func(chatEvent) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("starling connect ended before the expected event")
			}
			if match(ev) {
				return
			}
		case <-timeout:
			t.Fatal("starling connect did not print the expected event")
		}
	}
}

func (c *connectProc) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// finish ends the client's input, which closes the connection with 1000,
// and checks that it exits 0.
func (c *connectProc) finish(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	for range c.events {
	}
	if err := c.cmd.Wait(); err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Fatalf("starling connect: %v, stderr %q", err, c.stderr.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// viewer is a page in a Chromium of its own, driven with chromedp directly
// because browser.Page has no screenshot.
type viewer struct {
	ctx context.Context
}

func startViewer(t *testing.T, ctx context.Context, url string) *viewer {
	t.Helper()
	if _, err := os.Stat(browser.DefaultPath); err != nil {
		matrix.Require(t, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser.DefaultPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("HOME="+t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 720),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("viewer: %v", err)
	}
	v := &viewer{ctx: tab}
	v.wait(t, `document.getElementById("log").textContent.includes("You joined as viewer")`)
	return v
}

func (v *viewer) wait(t *testing.T, expr string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(v.ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("viewer: eval %s: %v", expr, err)
		}
		if ok {
			return
		}
		select {
		case <-v.ctx.Done():
			t.Fatalf("viewer: timed out waiting for %s", expr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// screenshot waits until the viewer's log contains text, then saves a PNG.
func (v *viewer) screenshot(t *testing.T, _ context.Context, text, name string) {
	t.Helper()
	q, _ := json.Marshal(text)
	v.wait(t, fmt.Sprintf(`document.getElementById("log").textContent.includes(%s)`, q))
	png, err := chromedp.Run(v.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the chat page: %s (%d bytes)", name, len(png))
}
