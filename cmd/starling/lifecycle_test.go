package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lineClient is a "starling connect" whose stdin stays open and whose
// stdout is read line by line.
type lineClient struct {
	cmd   *exec.Cmd
	stdin interface {
		Write([]byte) (int, error)
		Close() error
	}
	lines chan string
	done  chan error
}

func startLineClient(t *testing.T, args ...string) *lineClient {
	t.Helper()
	c := &lineClient{cmd: exec.Command(binary, args...), lines: make(chan string, 1000), done: make(chan error, 1)}
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.done <- c.cmd.Wait()
	}()
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	return c
}

// expect reads lines until one starts with prefix, and returns the lines
// read before it.
func (c *lineClient) expect(t *testing.T, prefix string) []string {
	t.Helper()
	var skipped []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("connect exited before printing %q; it printed %q", prefix, skipped)
			}
			if strings.HasPrefix(line, prefix) {
				return skipped
			}
			skipped = append(skipped, line)
		case <-timeout:
			t.Fatalf("connect did not print %q; it printed %q", prefix, skipped)
		}
	}
}

func TestConnectReconnectsAfterRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := startLineClient(t, "connect", "--reconnect", "--json", "ws://"+s.addr+"/echo")
	c.expect(t, `{"event":"connected"`)
	s.stop(t)
	c.expect(t, `{"event":"disconnected","code":1001,"reason":"server shutting down"}`)
	c.expect(t, `{"event":"reconnecting","attempt":1,`)
	startServer(t, "--addr", s.addr)
	c.expect(t, `{"event":"connected"`)
	if _, err := c.stdin.Write([]byte("after the restart\n")); err != nil {
		t.Fatal(err)
	}
	c.expect(t, `{"event":"text","data":"after the restart"}`)
	c.stdin.Close()
	c.expect(t, `{"event":"disconnected","code":1000,`)
	if err := <-c.done; err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestConnectHeartbeat(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := startLineClient(t, "connect", "--ping-interval", "100ms", "--json", "ws://"+s.addr+"/echo")
	c.expect(t, `{"event":"connected"`)
	c.expect(t, `{"event":"pong","data":`) // the server's answer to a heartbeat ping
	c.stdin.Close()
	if err := <-c.done; err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// writeCA makes a CA and a server certificate for 127.0.0.1 signed by it,
// and returns the paths of the CA's PEM and of the server's certificate
// and key.
func writeCA(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "starling test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", leafDER), write("key.pem", "EC PRIVATE KEY", keyDER)
}

func TestConnectCACertAgainstServeTLS(t *testing.T) {
	t.Parallel()
	ca, cert, key := writeCA(t)
	s := startServer(t, "--tls-cert", cert, "--tls-key", key)
	url := "wss://" + s.addr + "/echo"
	r := runStarling(t, strings.NewReader("verified\n"), "connect", "--cacert", ca, url)
	if r.code != 0 || r.stdout != "verified\n" {
		t.Errorf("--cacert: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runStarling(t, strings.NewReader("x\n"), "connect", url)
	if r.code != 1 || !strings.Contains(r.stderr, "certificate signed by unknown authority") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("without --cacert: exit %d, stderr %q", r.code, r.stderr)
	}
}
