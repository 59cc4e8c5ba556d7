package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"net/http"
	"net/url"
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
	fs.StringVar(&d.proxy, "proxy", "", "connect through this proxy `URL` (http, https, socks5, socks5h); default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY")
	fs.DurationVar(&d.timeout, "timeout", 10*time.Second, "bound the TCP, TLS and WebSocket handshake to this `duration`")
	fs.Int64Var(&d.maxSize, "max-size", starling.DefaultReadLimit, "largest message accepted, in `bytes`")
}

// check reports misuse of the flags as a usage error.
func (d *dialFlags) check() error {
	switch {
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
	if _, err := d.proxyFunc(); err != nil {
		return err
	}
	_, err := d.header()
	return err
}

// proxyFunc returns the Proxy option: the --proxy URL, or nil for the
// library's default, which reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
func (d *dialFlags) proxyFunc() (func(*url.URL) (*url.URL, error), error) {
	if d.proxy == "" {
		return nil, nil
	}
	u, err := url.Parse(d.proxy)
	if err != nil || u.Host == "" {
		return nil, usageErrorf("--proxy %q is not a URL such as http://proxy:3128 or socks5://proxy:1080", d.proxy)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return starling.ProxyURL(u), nil
	}
	return nil, usageErrorf("--proxy scheme %q is not http, https, socks5 or socks5h", u.Scheme)
}

// compression returns the Compression option: context takeover, as
// browsers negotiate it, when --compress is set.
func (d *dialFlags) compression() starling.CompressionOptions {
	if d.compress {
		return starling.CompressionOptions{Mode: starling.CompressionContextTakeover}
	}
	return starling.CompressionOptions{}
}

func (d *dialFlags) header() (http.Header, error) {
	h := http.Header{}
	for _, kv := range d.headers {
		name, value, ok := strings.Cut(kv, ":")
		// A line break would end the header early and start another one
		// (RFC 9112 section 5).
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(kv, "\r\n") {
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
	proxy, _ := d.proxyFunc()
	conf, err := d.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &starling.DialOptions{
		Proxy:        proxy,
		Compression:  d.compression(),
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

// clientOptions turns the flags into client.Options for connect: the
// same settings as options, and the handshake timeout.
func (d *dialFlags) clientOptions() (*client.Options, error) {
	o, err := d.options()
	if err != nil {
		return nil, err
	}
	return &client.Options{
		Header:           o.HTTPHeader,
		Origin:           o.Origin,
		Subprotocols:     o.Subprotocols,
		TLSConfig:        o.TLSConfig,
		Pins:             o.Pins,
		PinOnly:          o.PinOnly,
		Proxy:            o.Proxy,
		Compression:      o.Compression,
		HandshakeTimeout: d.timeout,
		ReadLimit:        o.ReadLimit,
	}, nil
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
