package clientbench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-ws/starling/bench/echo"
)

// serverEnv, when set, makes the test binary an echo server (see TestMain).
const serverEnv = "CLIENTBENCH_ECHO_SERVER"

// echoAddr is the address of the out-of-process echo server.
var echoAddr string

func TestMain(m *testing.M) {
	if impl := os.Getenv(serverEnv); impl != "" {
		err := echo.Serve(context.Background(), impl, "127.0.0.1:0", func(a net.Addr) { fmt.Printf("listening %s\n", a) })
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd, addr, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientbench:", err)
		os.Exit(1)
	}
	echoAddr = addr
	code := m.Run()
	cmd.Process.Kill()
	cmd.Wait()
	os.Exit(code)
}

// startServer re-executes the test binary as a gobwas echo server, the
// implementation that allocates least per message.
func startServer() (*exec.Cmd, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serverEnv+"=gobwas")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, "", fmt.Errorf("echo server did not start: %q %v", line, err)
	}
	return cmd, addr, nil
}

var sizes = []int{16, 1 << 10, 16 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// echoer is one client connection that can send p and read its echo into
// buf, returning the echo.
type echoer interface {
	echo(p, buf []byte) ([]byte, error)
	close()
}

// benchClient runs one echo per op for every size, checking the first
// echo's contents, and reports the process's CPU time per op.
func benchClient(b *testing.B, dial func(ctx context.Context, url string) (echoer, error)) {
	for _, size := range sizes {
		b.Run(sizeName(size), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := dial(ctx, "ws://"+echoAddr+"/")
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			p := make([]byte, size)
			for i := range p {
				p[i] = byte(i)
			}
			buf := make([]byte, size)
			got, err := c.echo(p, buf)
			if err != nil || string(got) != string(p) {
				b.Fatalf("echo: %d bytes back, error %v", len(got), err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.echo(p, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
