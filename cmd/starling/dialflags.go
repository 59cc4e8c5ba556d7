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

// options turns the flags into DialOptions, reporting misuse as a usage
// error.
func (d *dialFlags) options() (*starling.DialOptions, error) {
	switch {
	case d.compress:
		return nil, notSupported("compress", "client compression")
	case d.proxy != "":
		return nil, notSupported("proxy", "proxy")
	case d.timeout <= 0:
		return nil, usageErrorf("--timeout must be positive")
	case d.maxSize <= 0:
		return nil, usageErrorf("--max-size must be positive")
	}
	opts := &starling.DialOptions{
		HTTPHeader:   http.Header{},
		Origin:       d.origin,
		Subprotocols: d.subprotocol,
		ReadLimit:    d.maxSize,
		Pins:         d.pins,
	}
	for _, h := range d.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageErrorf("header %q is not \"Name: value\"", h)
		}
		opts.HTTPHeader.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	conf, err := d.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts.TLSConfig = conf
	// A pin is the user naming the exact key to trust, so it replaces CA
	// verification; this is what makes a self-signed server usable
	// without --insecure.
	opts.PinOnly = len(d.pins) > 0
	return opts, nil
}

func (d *dialFlags) tlsConfig() (*tls.Config, error) {
	if !d.insecure && d.cacert == "" {
		return nil, nil
	}
	conf := &tls.Config{}
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
	conf.InsecureSkipVerify = d.insecure
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
