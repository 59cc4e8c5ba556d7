package pin

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// handshake runs a TLS server presenting cert on a loopback listener and a
// client using cfg. After a successful handshake the client sends a line
// that the server echoes, so success means a working connection. It returns
// the client's error and the server's handshake error.
func handshake(t *testing.T, cert tls.Certificate, cfg *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() { done <- serveOnce(ln, cert) }()

	// The timeout is a safety net against a hung test, not a speed check.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clientErr = dialEcho(ctx, ln.Addr().String(), cfg)
	return clientErr, <-done
}

// serveOnce accepts one connection, completes the TLS handshake and echoes
// five bytes.
func serveOnce(ln net.Listener, cert tls.Certificate) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(tc, buf); err != nil {
		return err
	}
	_, err = tc.Write(buf)
	return err
}

func dialEcho(ctx context.Context, addr string, cfg *tls.Config) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	if _, err := tc.Write([]byte("hello")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(tc, buf); err != nil {
		return err
	}
	if !bytes.Equal(buf, []byte("hello")) {
		return io.ErrUnexpectedEOF
	}
	return nil
}
