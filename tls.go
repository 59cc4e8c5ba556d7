package starling

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"

	"github.com/starling-ws/starling/internal/pin"
)

// PinMismatchError is the error, in Dial's error chain, of a handshake in
// which no pinned key was found; Seen lists the digests the server sent.
// In pin-only mode, Unchained lists those that are pinned but whose
// certificates the server sent without the certificates that link the
// leaf to them.
type PinMismatchError = pin.MismatchError

// ErrPinMismatch is in the chain of the error Dial returns when no pinned
// key matches the server's certificates. The message names the digests seen.
var ErrPinMismatch = pin.ErrMismatch

// PinOf returns cert's pin for DialOptions.Pins: the base64 SHA-256 digest of
// its SubjectPublicKeyInfo.
func PinOf(cert *x509.Certificate) string { return pin.Digest(cert) }

// clientTLSConfig returns the TLS configuration for u: the caller's, with
// SNI from the URL's host and the pins applied.
func clientTLSConfig(u *url.URL, opts *DialOptions) (*tls.Config, error) {
	cfg := opts.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	// The handshake is HTTP/1.1 (RFC 6455 section 4.1): a server that
	// picked h2 from a NextProtos shared with an http.Transport would read
	// it as a broken HTTP/2 preface.
	cfg.NextProtos = []string{"http/1.1"}
	if len(opts.Pins) > 0 {
		pins, err := pin.New(opts.Pins...)
		if err != nil {
			return nil, invalidRequest{fmt.Errorf("starling: %w", err)}
		}
		cfg = pins.Apply(cfg, opts.PinOnly)
	}
	return cfg, nil
}
