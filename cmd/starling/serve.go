package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/cmd/starling/internal/server"
	"github.com/starling-ws/starling/cmd/starling/web"
)

// shutdownGrace bounds the goodbye to all connections on SIGINT/SIGTERM.
const shutdownGrace = 10 * time.Second

// pageGrace bounds the wait for plain HTTP requests at shutdown.
const pageGrace = time.Second

const serveHelp = `Serves, with nothing else to install:
  /        a chat page (open it in two tabs)
  /chat    the chat room: send text; receive JSON welcome/join/leave/message events
  /echo    every message sent back
  /ticker  simulated stock prices as JSON
SIGINT or SIGTERM closes every connection with 1001 (going away) and exits.
`

type serveConfig struct {
	addr              string
	certFile, keyFile string
	selfSigned        bool
	compress          bool
	origins           stringList
	readLimit         int64
	logJSON           bool
}

func serveCmd(ctx context.Context, args []string, s stdio) error {
	var cfg serveConfig
	fs := newFlagSet("serve", "serve [flags]", serveHelp, s.out)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "`address` to listen on (port 0 picks a free port, logged at start)")
	fs.StringVar(&cfg.certFile, "tls-cert", "", "serve TLS with this certificate `file` (PEM; needs --tls-key)")
	fs.StringVar(&cfg.keyFile, "tls-key", "", "private key `file` for --tls-cert (PEM)")
	fs.BoolVar(&cfg.selfSigned, "tls-self-signed", false, "serve TLS with a generated certificate; its pin is logged for connect --pin")
	fs.BoolVar(&cfg.compress, "compress", false, "accept permessage-deflate (RFC 7692) with context takeover when a client offers it")
	fs.Var(&cfg.origins, "origin", "allow browser pages from this host `pattern` (path.Match against host[:port], e.g. *.example.com or *.example.com:*); repeatable")
	fs.Int64Var(&cfg.readLimit, "read-limit", starling.DefaultReadLimit, "largest message accepted, in `bytes`")
	fs.BoolVar(&cfg.logJSON, "log-json", false, "log JSON records instead of text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("serve takes no arguments, got %q", pos[0])
	}
	if err := cfg.check(); err != nil {
		return err
	}
	return serve(ctx, cfg, newLogger(cfg.logJSON, s))
}

func (cfg *serveConfig) check() error {
	switch {
	case (cfg.certFile == "") != (cfg.keyFile == ""):
		return usageErrorf("--tls-cert and --tls-key go together")
	case cfg.selfSigned && cfg.certFile != "":
		return usageErrorf("--tls-self-signed and --tls-cert exclude each other")
	case cfg.readLimit <= 0:
		return usageErrorf("--read-limit must be positive")
	}
	// Accept matches patterns with path.Match and takes a malformed one
	// for a mismatch: it would refuse the pages the user meant to allow.
	for _, p := range cfg.origins {
		if _, err := path.Match(p, ""); err != nil {
			return usageErrorf("--origin %q is not a valid pattern: %v", p, err)
		}
	}
	return nil
}

func newLogger(json bool, s stdio) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(s.err, nil))
	}
	return slog.New(slog.NewTextHandler(s.err, nil))
}

// compression accepts permessage-deflate with context takeover when
// --compress is set; browsers offer it on every connection.
func (cfg *serveConfig) compression() starling.CompressionOptions {
	if cfg.compress {
		return starling.CompressionOptions{Mode: starling.CompressionContextTakeover}
	}
	return starling.CompressionOptions{}
}

// serve runs the server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger) error {
	tlsConf, err := cfg.tlsConfig(log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := server.New(server.Options{
		Accept: &starling.AcceptOptions{
			OriginPatterns: cfg.origins,
			ReadLimit:      cfg.readLimit,
			Compression:    cfg.compression(),
		},
		Logger: log,
		Page:   web.FS,
	})
	hs := starling.NewServer(cfg.addr, srv)
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	httpScheme, wsScheme := "http", "ws"
	if tlsConf != nil {
		hs.TLSConfig = tlsConf
		ln = tls.NewListener(ln, tlsConf)
		httpScheme, wsScheme = "https", "wss"
	}
	addr := ln.Addr().String()
	log.Info("listening", "addr", addr,
		"page", httpScheme+"://"+addr+"/",
		"echo", wsScheme+"://"+addr+"/echo",
		"chat", wsScheme+"://"+addr+"/chat",
		"ticker", wsScheme+"://"+addr+"/ticker")

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: closing every connection with 1001 going away")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = errors.Join(stopHTTP(sctx, hs), srv.Shutdown(sctx))
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// stopHTTP stops hs: it closes the listener, gives the requests under way
// (the page's files, handshakes) pageGrace to finish, and then closes what
// is left. Shutdown alone would wait 5s for a connection that has sent no
// request yet, as browsers open ahead of need. Hijacked connections, the
// WebSockets, are not hs's: the server's Shutdown closes those.
func stopHTTP(ctx context.Context, hs *http.Server) error {
	ctx, cancel := context.WithTimeout(ctx, pageGrace)
	defer cancel()
	if err := hs.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return hs.Close()
}

// tlsConfig loads or generates the certificate, or returns nil for plain
// HTTP.
func (cfg *serveConfig) tlsConfig(log *slog.Logger) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case cfg.certFile != "":
		cert, err = tls.LoadX509KeyPair(cfg.certFile, cfg.keyFile)
		if err != nil {
			// tls's errors name neither the flag nor the file.
			return nil, usageErrorf("--tls-cert %s, --tls-key %s: %v", cfg.certFile, cfg.keyFile, err)
		}
	case cfg.selfSigned:
		host, _, _ := net.SplitHostPort(cfg.addr)
		var pin string
		cert, pin, err = server.SelfSigned(host)
		if err == nil {
			log.Info("generated a self-signed certificate", "pin", pin)
		}
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
