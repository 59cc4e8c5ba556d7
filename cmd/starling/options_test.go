package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// The end-to-end tests of the flags that map onto library options:
// compression, pinning and proxies.

func TestConnectCompress(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--compress")
	msg := strings.Repeat("compressible ", 100)
	r := runStarling(t, strings.NewReader(msg+"\n"), "connect", "--compress", "--json", "ws://"+s.addr+"/echo")
	want := `{"event":"connected","subprotocol":"","extensions":"permessage-deflate"}
{"event":"text","data":"` + msg + `"}
{"event":"disconnected","code":1000,"reason":""}
`
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	// Without --compress on either side, nothing is negotiated.
	r = runStarling(t, strings.NewReader("x\n"), "connect", "--json", "ws://"+s.addr+"/echo")
	if r.code != 0 || strings.Contains(r.stdout, "extensions") {
		t.Fatalf("uncompressed: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestBenchCompress(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--compress")
	r := runStarling(t, nil, "bench", "--compress", "-n", "300", "-s", "4096", "-c", "2", "--json", "ws://"+s.addr+"/echo")
	var rep struct{ Messages, Errors int64 }
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil || rep.Messages != 300 || rep.Errors != 0 {
		t.Fatalf("exit %d, %v, report %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
}

func TestConnectPin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--tls-self-signed")
	var pin string
	for _, line := range strings.Split(s.log.String(), "\n") {
		var rec struct{ Pin string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Pin != "" {
			pin = rec.Pin
		}
	}
	url := "wss://" + s.addr + "/echo"
	r := runStarling(t, strings.NewReader("over tls\n"), "connect", "--pin", pin, url)
	if r.code != 0 || r.stdout != "over tls\n" {
		t.Errorf("with the pin: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	wrong := "sha256/" + strings.Repeat("A", 43) + "="
	r = runStarling(t, strings.NewReader("x\n"), "connect", "--pin", wrong, url)
	if r.code != 1 || !strings.Contains(r.stderr, "pin") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("with a wrong pin: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runStarling(t, strings.NewReader("x\n"), "connect", url)
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without a pin: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runStarling(t, strings.NewReader("insecure\n"), "connect", "--insecure", url)
	if r.code != 0 || r.stdout != "insecure\n" {
		t.Errorf("--insecure: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// startConnectProxy runs an HTTP CONNECT proxy on loopback that counts the
// tunnels it opens.
func startConnectProxy(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var tunnels atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
					return
				}
				target, err := net.Dial("tcp", req.Host)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer target.Close()
				tunnels.Add(1)
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go func() {
					io.Copy(target, br)
					target.(*net.TCPConn).CloseWrite()
				}()
				io.Copy(c, target)
			}()
		}
	}()
	return ln.Addr().String(), &tunnels
}

func TestConnectProxy(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	proxy, tunnels := startConnectProxy(t)
	r := runStarling(t, strings.NewReader("via the proxy\n"), "connect", "--proxy", "http://"+proxy, "ws://"+s.addr+"/echo")
	if r.code != 0 || r.stdout != "via the proxy\n" || tunnels.Load() != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q, %d tunnels", r.code, r.stdout, r.stderr, tunnels.Load())
	}
}
