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
	"syscall"
	"time"

	"github.com/starling-ws/starling/bench/load"
)

// pinning places the server and the load generator on CPUs of their own.
type pinning struct {
	taskset string // path, or "" when unavailable
	server  string // CPU list for the server
	client  string // CPU list for the load generator
}

func (p pinning) command(cpus, name string, args ...string) *exec.Cmd {
	if p.taskset == "" {
		return exec.Command(name, args...)
	}
	return exec.Command(p.taskset, append([]string{"-c", cpus, name}, args...)...)
}

// server is a running echo server process.
type server struct {
	cmd  *exec.Cmd
	addr string
	pid  int
}

// startServer starts bin/echoserver for impl and waits until it listens.
func startServer(bin string, pin pinning, impl string) (*server, error) {
	cmd := pin.command(pin.server, filepath.Join(bin, "echoserver"), "-impl", impl, "-addr", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// taskset execs the server in place, so the pid is the server's.
	addr, err := waitListening(out, 10*time.Second)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("echoserver %s did not start: %v", impl, err)
	}
	go io.Copy(io.Discard, out)
	return &server{cmd: cmd, addr: addr, pid: cmd.Process.Pid}, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// waitListening reads the server's stdout until its "listening ADDR"
// line (nbio logs its own lines first) and returns ADDR.
func waitListening(r io.Reader, timeout time.Duration) (string, error) {
	ch := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				ch <- addr
				return
			}
		}
		close(ch)
	}()
	select {
	case addr, ok := <-ch:
		if !ok {
			return "", fmt.Errorf("exited without listening")
		}
		return addr, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("not listening after %v", timeout)
	}
}

func readLine(r io.Reader, timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(timeout):
		return "", fmt.Errorf("timed out after %v", timeout)
	}
}

// runLoad runs bin/loadgen once against s.
func runLoad(ctx context.Context, bin string, pin pinning, s *server, sc scenario, o options) (load.Result, error) {
	args := []string{
		"-addr", s.addr, "-pid", fmt.Sprint(s.pid),
		"-conns", fmt.Sprint(sc.Conns), "-size", fmt.Sprint(sc.Size), "-window", fmt.Sprint(sc.Window),
		"-warmup", o.warmup.String(), "-duration", o.duration.String(),
	}
	if sc.Conns > 100 {
		args = append(args, "-sources", "16")
	}
	ctx, cancel := context.WithTimeout(ctx, o.warmup+o.duration+60*time.Second)
	defer cancel()
	cmd := pin.command(pin.client, filepath.Join(bin, "loadgen"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return load.Result{}, err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return load.Result{}, fmt.Errorf("loadgen: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return load.Result{}, fmt.Errorf("loadgen: %w", ctx.Err())
	}
	var r load.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return load.Result{}, fmt.Errorf("loadgen output %q: %w", stdout.String(), err)
	}
	return r, nil
}

// idleRSS starts a server for impl, opens n idle connections to it (each
// first echoing one message if echoed) and returns its RSS before, after,
// and after it has settled (see idleResult).
func idleRSS(bin string, pin pinning, impl string, n int, echoed bool) (idleResult, error) {
	r := idleResult{Impl: impl, Conns: n, Echoed: echoed}
	s, err := startServer(bin, pin, impl)
	if err != nil {
		return r, err
	}
	defer s.stop()
	time.Sleep(300 * time.Millisecond)
	if r.Base, err = load.ProcessRSS(s.pid); err != nil {
		return r, err
	}
	if r.SettledBase, err = settledRSS(s); err != nil {
		return r, err
	}
	args := []string{"-addr", s.addr, "-idle", fmt.Sprint(n), "-sources", "16"}
	if echoed {
		args = append(args, "-echo")
	}
	cmd := pin.command(pin.client, filepath.Join(bin, "loadgen"), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := readLine(out, 120*time.Second)
	if err != nil || line != fmt.Sprintf("held %d", n) {
		return r, fmt.Errorf("loadgen -idle: %q %v %s", line, err, strings.TrimSpace(stderr.String()))
	}
	// Let the server finish setting up the last connections.
	time.Sleep(2 * time.Second)
	if r.Held, err = load.ProcessRSS(s.pid); err != nil {
		return r, err
	}
	r.Settled, err = settledRSS(s)
	return r, err
}

// settledRSS returns the RSS of s once it has collected its garbage and
// returned free memory to the operating system (echoserver's SIGUSR1).
func settledRSS(s *server) (int64, error) {
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return 0, err
	}
	time.Sleep(time.Second) // a collection of a few tens of MiB takes milliseconds
	return load.ProcessRSS(s.pid)
}
