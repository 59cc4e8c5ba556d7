package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

func TestConnectPipe(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := runStarling(t, strings.NewReader("hello\nworld\n\nno newline at the end"), "connect", "ws://"+s.addr+"/echo")
	if r.code != 0 || r.stderr != "" || r.stdout != "hello\nworld\n\nno newline at the end\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestConnectPipeWaitsForRoom pipes more than the client's write queue
// holds (4 MiB) to an echo server that reads nothing for its first second:
// reading stdin must wait for room in the queue rather than drop lines.
func TestConnectPipeWaitsForRoom(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		time.Sleep(time.Second) // the client's queue fills meanwhile
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var in strings.Builder
	for i := range 120 {
		fmt.Fprintf(&in, "%03d %s\n", i, strings.Repeat("x", 100<<10))
	}
	r := runStarling(t, strings.NewReader(in.String()), "connect", "ws"+strings.TrimPrefix(srv.URL, "http"))
	if r.code != 0 || r.stderr != "" || r.stdout != in.String() {
		t.Fatalf("exit %d, stderr %q, %d of 120 lines back", r.code, r.stderr, strings.Count(r.stdout, "\n"))
	}
}

func TestConnectJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := runStarling(t, strings.NewReader("héllo \"quoted\" <tag>\n"), "connect", "--json", "ws://"+s.addr+"/echo")
	want := `{"event":"connected","subprotocol":""}
{"event":"text","data":"héllo \"quoted\" <tag>"}
{"event":"disconnected","code":1000,"reason":""}
`
	if r.code != 0 || r.stderr != "" || r.stdout != want {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
}

func TestConnectRefusedHandshake(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	url := "ws://" + s.addr + "/echo"
	line := "starling: handshake refused: 403 Forbidden: origin not allowed: https://evil.example\n"
	r := runStarling(t, strings.NewReader("never sent\n"), "connect", "--origin", "https://evil.example", url)
	if r.code != 1 || r.stdout != "" || r.stderr != line {
		t.Errorf("pipe: exit %d, stdout %q, stderr %q; want 1 and %q", r.code, r.stdout, r.stderr, line)
	}
	r = runStarling(t, nil, "connect", "--json", "--origin", "https://evil.example", url)
	want := `{"event":"error","error":"starling: handshake refused: 403 Forbidden: origin not allowed: https://evil.example"}
{"event":"disconnected","code":1006,"reason":""}
`
	if r.code != 1 || r.stdout != want || r.stderr != line {
		t.Errorf("json: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestConnectServerCloseWithCode(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--read-limit", "5")
	r := runStarling(t, strings.NewReader("four\ntoo long\nnot sent\n"), "connect", "--json", "ws://"+s.addr+"/echo")
	// The reason's wording is the library's; the code is the contract.
	want := `{"event":"connected","subprotocol":""}
{"event":"text","data":"four"}
{"event":"disconnected","code":1009,"reason":"`
	if r.code != 1 || !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 3 || !strings.HasPrefix(r.stderr, "starling: closed by the server: 1009 ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
}

func TestConnectServerGoingAway(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cmd := exec.Command(binary, "connect", "ws://"+s.addr+"/chat?name=bot")
	stdin, _ := cmd.StdinPipe() // kept open: the server ends the session
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || !strings.Contains(line, `"type":"welcome","name":"bot"`) {
		t.Fatalf("first line %q, %v; want the welcome", line, err)
	}
	s.stop(t)
	rest, _ := io.ReadAll(out)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || len(rest) != 0 {
		t.Fatalf("after the server stopped: %v, more output %q", err, rest)
	}
	if got, want := stderr.String(), "starling: closed by the server: 1001 \"server shutting down\"\n"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
}

func TestConnectUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"connect"},
		{"connect", "127.0.0.1:8080"},
		{"connect", "-H", "no colon", "ws://x/"},
		{"connect", "--binary-format", "octal", "ws://x/"},
		{"connect", "--pin", "nope", "ws://x/"},
		{"connect", "--proxy", "p:1080", "ws://x/"},
	} {
		r := runInProcess(args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "starling: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("starling %q: exit %d, stderr %q; want 2 and one line", args, r.code, r.stderr)
		}
	}
}

func TestConnectHeaderAndSubprotocol(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	// The demo endpoints speak no subprotocol, so the offer is declined
	// and the header is accepted without effect; what is checked is that
	// flags after the URL parse and the session still runs.
	r := runStarling(t, strings.NewReader("x\n"), "connect", "ws://"+s.addr+"/echo", "-H", "X-Test: 1", "--header", "Authorization: Bearer t", "--subprotocol", "chat", "--json")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `{"event":"connected","subprotocol":""}`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestConnectSignalClosesNormally(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cmd := exec.Command(binary, "connect", "--json", "ws://"+s.addr+"/echo")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	if line, _ := out.ReadString('\n'); !strings.HasPrefix(line, `{"event":"connected"`) {
		t.Fatalf("first line %q", line)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(out)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || string(rest) != `{"event":"disconnected","code":1000,"reason":""}`+"\n" {
			t.Fatalf("after SIGINT: %v, output %q", err, rest)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("connect did not exit after SIGINT")
	}
}

// TestConnectSignalWhileSending sends SIGTERM while stdin still streams
// lines: the lines read after the close has begun must not turn a normal
// close into a failure.
func TestConnectSignalWhileSending(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cmd := exec.Command(binary, "connect", "ws://"+s.addr+"/echo")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	go func() {
		for {
			if _, err := io.WriteString(stdin, "more\n"); err != nil {
				return // connect has exited
			}
		}
	}()
	out := bufio.NewReader(stdout)
	if line, _ := out.ReadString('\n'); line != "more\n" {
		t.Fatalf("first line %q", line)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_, _ = io.Copy(io.Discard, out)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || stderr.String() != "" {
			t.Fatalf("after SIGTERM: %v, stderr %q", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("connect did not exit after SIGTERM")
	}
}
