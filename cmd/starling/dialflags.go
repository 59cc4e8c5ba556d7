package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
	"github.com/starling-ws/starling/internal/pin"
)

// dialFlags are the connection flags that connect and bench share.
type dialFlags struct {
	headers     stringList
	subprotocol stringList
	origin      string
	compress    bool
	insecure    bool
	cacert      string
	pins        stringList
	proxy       string
	timeout     time.Duration
	maxSize     int64
}

func (d *dialFlags) register(fs *flag.FlagSet) {
	fs.Var(&d.headers, "H", "add a handshake `header` \"Name: value\"; repeatable")
	fs.Var(&d.headers, "header", "same as -H")
	fs.Var(&d.subprotocol, "subprotocol", "offer this `subprotocol`; repeatable, in order of preference")
	fs.StringVar(&d.origin, "origin", "", "send this Origin `URL`")
	fs.BoolVar(&d.compress, "compress", false, "offer permessage-deflate (RFC 7692)")
	fs.BoolVar(&d.insecure, "insecure", false, "skip TLS certificate verification (testing only)")
	fs.StringVar(&d.cacert, "cacert", "", "trust the CA certificates in this PEM `file` for wss://")
	fs.Var(&d.pins, "pin", "trust exactly the server key with this `sha256/base64` pin, instead of CAs (serve --tls-self-signed logs it); repeatable")
	fs.StringVar(&d.proxy, "proxy", "", "connect through this HTTP or SOCKS5 proxy `URL`")
	fs.DurationVar(&d.timeout, "timeout", 10*time.Second, "bound the TCP, TLS and WebSocket handshake to this `duration`")
	fs.Int64Var(&d.maxSize, "max-size", starling.DefaultReadLimit, "largest message accepted, in `bytes`")
}

// check reports misuse of the flags as a usage error.
func (d *dialFlags) check() error {
	switch {
	case d.compress:
		return notSupported("compress", "client compression")
	case d.proxy != "":
		return notSupported("proxy", "proxy")
	case d.timeout <= 0:
		return usageErrorf("--timeout must be positive")
	case d.maxSize <= 0:
		return usageErrorf("--max-size must be positive")
	}
	if len(d.pins) > 0 {
		if _, err := pin.New(d.pins...); err != nil {
			return usageErrorf("--pin: %v", err)
		}
	}
	_, err := d.header()
	return err
}

func (d *dialFlags) header() (http.Header, error) {
	h := http.Header{}
	for _, kv := range d.headers {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageErrorf("header %q is not \"Name: value\"", kv)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return h, nil
}

// options turns the flags into DialOptions for bench.
func (d *dialFlags) options() (*starling.DialOptions, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	h, _ := d.header()
	conf, err := d.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &starling.DialOptions{
		HTTPHeader:   h,
		Origin:       d.origin,
		Subprotocols: d.subprotocol,
		ReadLimit:    d.maxSize,
		TLSConfig:    conf,
		Pins:         d.pins,
		// A pin is the user naming the exact key to trust, so it
		// replaces CA verification; this is what makes a self-signed
		// server usable without --insecure.
		PinOnly: len(d.pins) > 0,
	}, nil
}

// clientOptions turns the flags into client.Options for connect. The
// client has no pin option, so pins are checked by the TLS config.
func (d *dialFlags) clientOptions() (*client.Options, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	h, _ := d.header()
	conf, err := d.tlsConfig()
	if err != nil {
		return nil, err
	}
	if len(d.pins) > 0 {
		pins, _ := pin.New(d.pins...) // checked above
		if conf == nil {
			conf = &tls.Config{}
		}
		conf.InsecureSkipVerify = true // replaced by the pin check, as PinOnly does
		conf.VerifyConnection = verifyPins(pins)
	}
	return &client.Options{
		Header:           h,
		Origin:           d.origin,
		Subprotocols:     d.subprotocol,
		TLSConfig:        conf,
		HandshakeTimeout: d.timeout,
		ReadLimit:        d.maxSize,
	}, nil
}

// verifyPins accepts a server whose certificate chain holds a pinned key
// and whose leaf is within its validity period.
func verifyPins(pins pin.Pins) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return pin.ErrMismatch
		}
		leaf := cs.PeerCertificates[0]
		if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			return fmt.Errorf("certificate valid from %v to %v, not now", leaf.NotBefore, leaf.NotAfter)
		}
		for _, c := range cs.PeerCertificates {
			if pins.Match(c) {
				return nil
			}
		}
		return fmt.Errorf("%w (server key sha256/%s)", pin.ErrMismatch, pin.Digest(leaf))
	}
}

func (d *dialFlags) tlsConfig() (*tls.Config, error) {
	if !d.insecure && d.cacert == "" {
		return nil, nil
	}
	conf := &tls.Config{InsecureSkipVerify: d.insecure}
	if d.cacert != "" {
		pem, err := os.ReadFile(d.cacert)
		if err != nil {
			return nil, usageErrorf("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--cacert: no PEM certificate in %s", d.cacert)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// checkURL accepts only ws:// and wss:// URLs, so that a typo is a usage
// error rather than a connection error.
func checkURL(u string) error {
	if !strings.HasPrefix(u, "ws://") && !strings.HasPrefix(u, "wss://") {
		return usageErrorf("URL %q must start with ws:// or wss://", u)
	}
	return nil
}

// describe names a message type and size for reports.
func describe(size int, typ starling.MessageType) string {
	return fmt.Sprintf("%d-byte %v messages", size, typ)
}
