package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair with the standard library only:
// posix_openpt is open("/dev/ptmx"), unlockpt is TIOCSPTLCK and ptsname
// is TIOCGPTN.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	ioctl := func(req uintptr, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), req, uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	ws := struct{ row, col, x, y uint16 }{24, 100, 0, 0}
	if err := ioctl(syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's slave: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// screen collects what the program writes to the terminal.
type screen struct {
	buf syncBuffer
}

// startInTerminal runs starling with args as the session leader of a new
// pseudo-terminal, with env added, and returns the terminal's master side,
// the screen, and a channel with the exit.
func startInTerminal(t *testing.T, env string, args ...string) (*os.File, *screen, chan error) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(binary, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm", env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds it now
	sc := new(screen)
	go func() {
		p := make([]byte, 4096)
		for {
			n, err := master.Read(p)
			sc.buf.Write(p[:n])
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return master, sc, exited
}

// waitExit waits for a clean exit.
func (s *screen) waitExit(t *testing.T, exited chan error) {
	t.Helper()
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("connect exited with %v; terminal:\n%q", err, s.buf.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("connect did not exit; terminal:\n%q", s.buf.String())
	}
}

func (s *screen) waitFor(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !re.MatchString(s.buf.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %v; it shows:\n%q", re, s.buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConnectInteractive(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	master, sc, exited := startInTerminal(t, "NO_COLOR=", "connect", "ws://"+srv.addr+"/echo")
	sc.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d \x1b\[[0-9;]*m\*\x1b\[0m connected to ws://`))
	type_ := func(s string) {
		if _, err := master.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	type_("hello over a pty\r")
	sc.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d \x1b\[[0-9;]*m<\x1b\[0m hello over a pty`))
	type_("/binary 68 69 ff\r")
	sc.waitFor(t, regexp.MustCompile(`\[binary, 3 bytes\] 6869ff`))
	type_("/ping are you there\r")
	sc.waitFor(t, regexp.MustCompile(`\[pong\] "are you there"`))
	type_("/close 4000 bye\r")
	sc.waitFor(t, regexp.MustCompile(`closing with 4000 "bye"(.|\n)*disconnected: 4000`))
	sc.waitExit(t, exited)
	if out := sc.buf.String(); !strings.Contains(out, "> hello over a pty") {
		t.Errorf("the prompt never showed the typed line:\n%q", out)
	}
}

func TestConnectInteractiveNoColor(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	master, sc, exited := startInTerminal(t, "NO_COLOR=1", "connect", "ws://"+srv.addr+"/echo")
	sc.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d \* connected to ws://`))
	if _, err := master.Write([]byte{4}); err != nil { // Ctrl-D: close with 1000
		t.Fatal(err)
	}
	sc.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d \* disconnected: 1000`))
	sc.waitExit(t, exited)
	if strings.Contains(sc.buf.String(), "\x1b[3") {
		t.Errorf("colour codes despite NO_COLOR:\n%q", sc.buf.String())
	}
}

func TestBenchProgressOnTerminal(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	_, sc, exited := startInTerminal(t, "", "bench", "-d", "1500ms", "-c", "2", "ws://"+srv.addr+"/echo")
	sc.waitFor(t, regexp.MustCompile(`\r\x1b\[K +\d+\.\ds +\d+ messages +\d+ msg/s +0 errors`))
	sc.waitFor(t, regexp.MustCompile(`latency +p50 `))
	sc.waitExit(t, exited)
}
