// Package examples holds runnable example programs; this test builds them
// and runs the client against the echo server.
package examples

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// build builds the example programs named into a temporary directory.
func build(ctx context.Context, t *testing.T, progs ...string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, prog := range progs {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, prog), "./"+prog)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./%s: %v\n%s", prog, err, out)
		}
	}
	return dir
}

// startEcho starts the echo server built in dir and returns it with the
// URL it serves on.
func startEcho(ctx context.Context, t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	server := exec.CommandContext(ctx, filepath.Join(dir, "echo"), "-addr", "127.0.0.1:0")
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		server.Process.Kill()
		server.Wait()
	})
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		first <- line
	}()
	var url string
	select {
	case line := <-first:
		_, url, _ = strings.Cut(strings.TrimSpace(line), "serving on ")
	case <-time.After(30 * time.Second):
		t.Fatal("the echo server did not say where it serves")
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("echo server URL %q", url)
	}
	return server, url
}

func TestEchoAndClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := build(ctx, t, "echo", "client")
	_, url := startEcho(ctx, t, dir)

	client := exec.CommandContext(ctx, filepath.Join(dir, "client"), "-url", url, "hello", "κόσμε", "bye")
	out, err := client.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	want := "sent \"hello\", got \"hello\"\nsent \"κόσμε\", got \"κόσμε\"\nsent \"bye\", got \"bye\"\n"
	if string(out) != want {
		t.Fatalf("client printed\n%s\nwant\n%s", out, want)
	}
}

// TestEchoInterrupted interrupts the echo server while a client is
// connected: the client is told the server is going away (1001), and the
// server exits cleanly once the connection is closed.
func TestEchoInterrupted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no interrupt signal to send on Windows")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server, url := startEcho(ctx, t, build(ctx, t, "echo"))

	c, _, err := starling.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, starling.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "hello" {
		t.Fatalf("got %q, %v", p, err)
	}
	if err := server.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx)
	if code := starling.CloseStatus(err); code != starling.StatusGoingAway {
		t.Errorf("after the interrupt, the client read %v (%v), want 1001", code, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("echo server: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the echo server did not exit after the interrupt")
		server.Process.Kill()
		<-exited
	}
}
