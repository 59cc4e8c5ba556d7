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
	"path/filepath"
	"strings"
	"time"
)

// Config describes a comparison.
type Config struct {
	// Exe is a program that calls RunRole when IsRole says its arguments
	// ask for it (cmd/broadcast does). Run starts it with the arguments
	// "-role server -impl IMPL -addr ADDR [-compress]" and
	// "-role client -addr ADDR -conns N -sources S [-compress]".
	Exe string
	// Taskset, if not empty, is the taskset program, used to run the server
	// on ServerCPUs and the client on ClientCPUs.
	Taskset, ServerCPUs, ClientCPUs string

	Impls    []string
	Conns    int
	Sizes    []int
	Compress []bool // the settings to measure: off, on, or both
	Runs     int    // measured broadcasts per setting, after one unmeasured

	// Profiles, if not empty, is a directory where each server process
	// writes a CPU profile of its whole life, IMPL-off.prof or IMPL-on.prof
	// by compression setting.
	Profiles string

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

// Run measures every implementation, size and compression setting. For
// each compression setting it starts a server process and a client
// process per implementation and opens all their connections, then
// broadcasts Runs+1 times to each (the first unmeasured), interleaved:
// every run visits the implementations in a different order, so that a
// busy moment of a shared machine does not fall on one implementation's
// runs only. It returns what it measured even when some failed.
func Run(ctx context.Context, cfg Config) []Result {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var out []Result
	for _, compress := range cfg.Compress {
		sessions := map[string]*session{}
		results := map[string][]*Result{}
		for _, impl := range cfg.Impls {
			for _, size := range cfg.Sizes {
				r := &Result{Impl: impl, Conns: cfg.Conns, Size: size, Compress: compress}
				results[impl] = append(results[impl], r)
			}
			if ctx.Err() != nil {
				break
			}
			logf("%s, compression %v: opening %d connections", impl, compress, cfg.Conns)
			s, err := startSession(ctx, cfg, impl, compress)
			if err != nil {
				logf("%s: %v", impl, err)
				for _, r := range results[impl] {
					r.Err = err.Error()
				}
				continue
			}
			sessions[impl] = s
		}
		for run := 0; run <= cfg.Runs && ctx.Err() == nil; run++ {
			logf("compression %v: run %d of %d", compress, run, cfg.Runs)
			for j := range cfg.Impls {
				impl := cfg.Impls[(run+j)%len(cfg.Impls)]
				s := sessions[impl]
				if s == nil {
					continue
				}
				for i, r := range results[impl] {
					smp, err := s.round(ctx, r.Size)
					if err != nil {
						logf("%s, %d bytes: %v", impl, r.Size, err)
						r.Err = err.Error()
						// Its connections are in an unknown state.
						s.stop()
						delete(sessions, impl)
						for _, r := range results[impl][i+1:] {
							r.Err = "not measured after the failure above"
						}
						break
					}
					if run > 0 { // the first warms up pools and caches
						r.Samples = append(r.Samples, smp)
					}
				}
			}
		}
		for _, impl := range cfg.Impls {
			for _, r := range results[impl] {
				out = append(out, *r)
			}
		}
		for _, s := range sessions {
			s.stop()
		}
	}
	return out
}

// session is one implementation's server process and the client process
// connected to it.
type session struct {
	srv, cl *process
	k       int // the last message sent
}

// startSession starts impl's server and a client holding cfg.Conns
// connections to it.
func startSession(ctx context.Context, cfg Config, impl string, compress bool) (_ *session, err error) {
	args := []string{"-role", "server", "-impl", impl, "-addr", "127.0.0.1:0"}
	if compress {
		args = append(args, "-compress")
	}
	if cfg.Profiles != "" {
		setting := map[bool]string{false: "off", true: "on"}[compress]
		args = append(args, "-cpuprofile", filepath.Join(cfg.Profiles, impl+"-"+setting+".prof"))
	}
	s := &session{}
	if s.srv, err = startProcess(cfg.command(cfg.ServerCPUs, args...)); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	addr, err := s.srv.expect(ctx, 10*time.Second, "listening ")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	sources := 0
	if cfg.Conns > 100 {
		sources = 16
	}
	args = []string{"-role", "client", "-addr", addr, "-conns", fmt.Sprint(cfg.Conns), "-sources", fmt.Sprint(sources)}
	if compress {
		args = append(args, "-compress")
	}
	if s.cl, err = startProcess(cfg.command(cfg.ClientCPUs, args...)); err != nil {
		return nil, err
	}
	if _, err := s.cl.expect(ctx, 5*time.Minute, "connected "); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if err := s.srv.send("wait %d", cfg.Conns); err != nil {
		return nil, err
	}
	if _, err := s.srv.expect(ctx, time.Minute, "conns "); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// stop ends the client, then the server.
func (s *session) stop() {
	if s.cl != nil {
		s.cl.stop()
		s.cl = nil
	}
	if s.srv != nil {
		s.srv.stop()
		s.srv = nil
	}
}

// round broadcasts the next message and measures it.
func (ss *session) round(ctx context.Context, size int) (Sample, error) {
	ss.k++
	var s Sample
	srv, cl, k := ss.srv, ss.cl, ss.k
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
