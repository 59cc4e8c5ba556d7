// Package examples holds runnable example programs; this test builds them
// and runs the client against the echo server.
package examples

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEchoAndClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, prog := range []string{"echo", "client"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, prog), "./"+prog)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./%s: %v\n%s", prog, err, out)
		}
	}

	server := exec.CommandContext(ctx, filepath.Join(dir, "echo"), "-addr", "127.0.0.1:0")
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		server.Process.Kill()
		server.Wait()
	}()
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
