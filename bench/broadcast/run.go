package broadcast

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Config describes a comparison.
type Config struct {
	// Exe is a program that runs ServeProcess when given the arguments
	// "-role server -impl IMPL -addr ADDR [-compress]" and ClientProcess
	// when given "-role client -addr ADDR -conns N -sources S [-compress]"
	// (cmd/broadcast does).
	Exe string
	// Taskset, if not empty, is the taskset program, used to run the server
	// on ServerCPUs and the client on ClientCPUs.
	Taskset, ServerCPUs, ClientCPUs string

	Impls    []string
	Conns    int
	Sizes    []int
	Compress []bool // the settings to measure: off, on, or both
	Runs     int    // measured broadcasts per setting, after one unmeasured

	// Logf, if not nil, reports progress.
	Logf func(format string, args ...any)
}

// Sample is one broadcast.
type Sample struct {
	Wall    time.Duration `json:"wall_ns"`   // from the start of the broadcast until the last client received it
	Writes  time.Duration `json:"writes_ns"` // until every write call returned (for gws: was queued)
	CPU     time.Duration `json:"cpu_ns"`    // server user+system CPU from the start until all received
	Mallocs uint64        `json:"mallocs"`   // server heap objects allocated in that time
	Bytes   uint64        `json:"bytes"`     // server heap bytes allocated in that time
	Wire    int64         `json:"wire"`      // payload bytes each connection received, as sent (compressed or not)
}

// Result is one implementation's samples for one size and compression
// setting.
type Result struct {
	Impl     string   `json:"impl"`
	Conns    int      `json:"conns"`
	Size     int      `json:"size"`
	Compress bool     `json:"compress"`
	Samples  []Sample `json:"samples"`
	Err      string   `json:"error,omitempty"`
}

// Run measures every implementation, size and compression setting in
// turn: for each, it starts a server process and a client process, opens
// the connections, and broadcasts Runs+1 messages one after the other.
// It returns what it measured even when some settings failed.
func Run(ctx context.Context, cfg Config) []Result {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var out []Result
	i := 0
	for _, size := range cfg.Sizes {
		for _, compress := range cfg.Compress {
			// Rotate the order, so no implementation always goes first.
			for j := range cfg.Impls {
				impl := cfg.Impls[(i+j)%len(cfg.Impls)]
				if ctx.Err() != nil {
					return out
				}
				logf("%s, %d connections, %d bytes, compression %v", impl, cfg.Conns, size, compress)
				r := Result{Impl: impl, Conns: cfg.Conns, Size: size, Compress: compress}
				var err error
				r.Samples, err = session(ctx, cfg, impl, size, compress)
				if err != nil {
					r.Err = err.Error()
					logf("%s: %v", impl, err)
				}
				out = append(out, r)
			}
			i++
		}
	}
	return out
}

// session measures one implementation with one size and setting.
func session(ctx context.Context, cfg Config, impl string, size int, compress bool) ([]Sample, error) {
	args := []string{"-role", "server", "-impl", impl, "-addr", "127.0.0.1:0"}
	if compress {
		args = append(args, "-compress")
	}
	srv, err := startProcess(cfg.command(cfg.ServerCPUs, args...))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	line, err := srv.expect(ctx, 10*time.Second, "listening ")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	sources := 0
	if cfg.Conns > 100 {
		sources = 16
	}
	args = []string{"-role", "client", "-addr", line, "-conns", fmt.Sprint(cfg.Conns), "-sources", fmt.Sprint(sources)}
	if compress {
		args = append(args, "-compress")
	}
	cl, err := startProcess(cfg.command(cfg.ClientCPUs, args...))
	if err != nil {
		return nil, err
	}
	defer cl.stop()
	if _, err := cl.expect(ctx, 5*time.Minute, "connected "); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if err := srv.send("wait %d", cfg.Conns); err != nil {
		return nil, err
	}
	if _, err := srv.expect(ctx, time.Minute, "conns "); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var samples []Sample
	for k := range cfg.Runs + 1 {
		s, err := round(ctx, srv, cl, k+1, size)
		if err != nil {
			return samples, fmt.Errorf("broadcast %d: %w", k+1, err)
		}
		if k > 0 { // the first warms up pools and caches
			samples = append(samples, s)
		}
	}
	return samples, nil
}

// round broadcasts message k and measures it.
func round(ctx context.Context, srv, cl *process, k, size int) (Sample, error) {
	var s Sample
	if err := cl.send("expect %d %d", k, size); err != nil {
		return s, err
	}
	if _, err := cl.expect(ctx, 10*time.Second, "ready "); err != nil {
		return s, fmt.Errorf("client: %w", err)
	}
	if err := srv.send("send %d %d", k, size); err != nil {
		return s, err
	}
	line, err := srv.expect(ctx, time.Minute, "sent ")
	if err != nil {
		return s, fmt.Errorf("server: %w", err)
	}
	var gotK int
	var t0, writes, last int64
	if !scan(line, "%d %d %d", &gotK, &t0, &writes) || gotK != k {
		return s, fmt.Errorf("server: %q", line)
	}
	if line, err = cl.expect(ctx, time.Minute, "got "); err != nil {
		return s, fmt.Errorf("client: %w", err)
	}
	if !scan(line, "%d %d %d", &gotK, &last, &s.Wire) || gotK != k {
		return s, fmt.Errorf("client: %q", line)
	}
	if err := srv.send("stats"); err != nil {
		return s, err
	}
	if line, err = srv.expect(ctx, 10*time.Second, "stats "); err != nil {
		return s, fmt.Errorf("server: %w", err)
	}
	var cpu int64
	if !scan(line, "%d %d %d", &cpu, &s.Mallocs, &s.Bytes) {
		return s, fmt.Errorf("server: %q", line)
	}
	s.Wall, s.Writes, s.CPU = time.Duration(last-t0), time.Duration(writes), time.Duration(cpu)
	return s, nil
}

func (cfg Config) command(cpus string, args ...string) *exec.Cmd {
	if cfg.Taskset == "" || cpus == "" {
		return exec.Command(cfg.Exe, args...)
	}
	return exec.Command(cfg.Taskset, append([]string{"-c", cpus, cfg.Exe}, args...)...)
}

// process is a server or client process driven over its stdin and stdout.
type process struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string // stdout, line by line; closed at its end
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p, nil
}

func (p *process) send(format string, args ...any) error {
	_, err := fmt.Fprintf(p.in, format+"\n", args...)
	return err
}

// expect waits for a line starting with prefix, skipping others (nbio
// logs lines of its own), and returns the rest of it. A line "error ..."
// fails.
func (p *process) expect(ctx context.Context, timeout time.Duration, prefix string) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", errors.New("exited")
			}
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest, nil
			}
			if rest, ok := strings.CutPrefix(line, "error "); ok {
				return "", errors.New(rest)
			}
		case <-t.C:
			return "", fmt.Errorf("no %q line after %v", strings.TrimSpace(prefix), timeout)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// stop closes stdin, which ends the process, and kills it if it has not
// ended 10 seconds later.
func (p *process) stop() {
	p.in.Close()
	done := make(chan struct{})
	go func() {
		for range p.lines {
		}
		p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// Sources returns n local addresses, 127.0.0.2 and up, to spread many
// connections over so that they do not run out of ephemeral ports.
func Sources(n int) []net.IP {
	ips := make([]net.IP, n)
	for i := range ips {
		ips[i] = net.IPv4(127, 0, byte(i/250), byte(2+i%250))
	}
	return ips
}
