package peer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Process is a peer run as a child process that speaks the line protocol
// of the scripts in interop/node and interop/python:
//
//   - On start it prints {"event":"listening","port":N}, the port of its
//     WebSocket server on 127.0.0.1, with "tls":true if that server
//     speaks TLS (wss).
//   - It reads commands from stdin, one JSON object a line:
//     {"cmd":"connect","url":U,"mode":M,"id":I}.
//   - It prints every Event as one JSON object a line on stdout.
type Process struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	hub   Hub
	mu    sync.Mutex // serialises writes to stdin
	done  chan struct{}

	stderr syncBuffer
}

// StartProcess runs argv[0] with the remaining arguments in dir, with env
// added to this process's environment, and waits for it to report its
// listening port. It returns an error wrapping ErrUnavailable if argv[0]
// cannot be found.
func StartProcess(ctx context.Context, name, dir string, env []string, argv ...string) (*Process, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrUnavailable, err)
	}
	p := &Process{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(path, argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	listening := make(chan string, 1)
	go p.readEvents(stdout, listening)
	select {
	case p.url = <-listening:
		return p, nil
	case <-p.done:
		p.Close()
		return nil, fmt.Errorf("%s exited before listening: %s", name, p.stderr.String())
	case <-ctx.Done():
		p.Close()
		return nil, fmt.Errorf("%s did not start: %w: %s", name, ctx.Err(), p.stderr.String())
	}
}

// readEvents posts the events read from r, and sends the server's URL on
// listening when the process reports it.
func (p *Process) readEvents(r io.Reader, listening chan<- string) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct {
			Event
			Port int  `json:"port"`
			TLS  bool `json:"tls"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			p.hub.Post(Event{Kind: EventError, Reason: "bad line: " + sc.Text()})
			continue
		}
		if e.Kind == "listening" {
			scheme := "ws"
			if e.TLS {
				scheme = "wss"
			}
			listening <- scheme + "://127.0.0.1:" + strconv.Itoa(e.Port)
			continue
		}
		p.hub.Post(e.Event)
	}
}

// Name implements Peer.
func (p *Process) Name() string { return p.name }

// ServerURL implements Peer.
func (p *Process) ServerURL() string { return p.url }

// Connect implements Peer.
func (p *Process) Connect(ctx context.Context, url, mode, id string) error {
	line, err := json.Marshal(map[string]string{"cmd": "connect", "url": url, "mode": mode, "id": id})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.stdin.Write(append(line, '\n'))
	return err
}

// Wait implements Peer.
func (p *Process) Wait(ctx context.Context, id, kind string) (Event, error) {
	e, err := p.hub.Wait(ctx, id, kind)
	if err != nil {
		err = fmt.Errorf("%s: %w (stderr: %s)", p.name, err, p.stderr.String())
	}
	return e, err
}

// Close ends the process: it closes stdin, which the scripts take as the
// signal to exit, and kills the process if it has not exited in a few seconds.
func (p *Process) Close() error {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
	}
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s: %w: %s", p.name, err, p.stderr.String())
	}
	return err
}

// syncBuffer keeps the last 16 KiB a child wrote to stderr, for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - 16<<10; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
