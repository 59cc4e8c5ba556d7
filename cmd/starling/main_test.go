package main

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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the starling command built once for all end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "starling-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "starling")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building starling:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a running "starling serve" process.
type testServer struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer       // every log line, for failure messages and assertions
	rec  map[string]string // the "listening" record's string fields
	done chan error
}

// startServer runs "starling serve --addr 127.0.0.1:0 --log-json" with the
// extra flags and waits for its "listening" record. The server is stopped
// with SIGTERM at the end of the test.
func startServer(t *testing.T, flags ...string) *testServer {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-json"}, flags...)
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &testServer{cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	records := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(s.log, sc.Text())
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				select {
				case records <- rec:
				default:
				}
			}
		}
		close(records)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	timeout := time.After(30 * time.Second)
	for {
		select {
		case rec, ok := <-records:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", s.log)
			}
			if rec["msg"] == "listening" {
				s.rec = make(map[string]string)
				for k, v := range rec {
					if str, ok := v.(string); ok {
						s.rec[k] = str
					}
				}
				s.addr = s.rec["addr"]
				go func() {
					for range records {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("serve did not log its address:\n%s", s.log)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *testServer) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve exited with %v:\n%s", err, s.log)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("serve did not stop after SIGTERM:\n%s", s.log)
	}
}

// result is the outcome of one finished starling run.
type result struct {
	stdout, stderr string
	code           int
}

// runStarling runs the binary with args and stdin to completion.
func runStarling(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("starling %s did not finish\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), &out, &errb)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// runInProcess runs the command line through run, without a process, for
// usage errors that never reach the network.
func runInProcess(args ...string) result {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{strings.NewReader(""), &out, &errb})
	return result{out.String(), errb.String(), code}
}

func TestUsageErrorExitStatus(t *testing.T) {
	t.Parallel()
	r := runStarling(t, nil, "connect")
	want := "starling: connect takes one URL, e.g. starling connect ws://127.0.0.1:8080/echo\n"
	if r.code != 2 || r.stderr != want || r.stdout != "" {
		t.Fatalf("exit %d, stderr %q; want 2, %q", r.code, r.stderr, want)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"connect", "-h"}, {"serve", "--help"}, {"bench", "-h"}} {
		r := runInProcess(args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: starling") || strings.Count(r.stdout, "usage:") != 1 || r.stderr != "" {
			t.Errorf("starling %q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runInProcess(); r.code != 2 || !strings.HasPrefix(r.stderr, "usage: starling") {
		t.Errorf("no arguments: exit %d, stderr %q", r.code, r.stderr)
	}
}
