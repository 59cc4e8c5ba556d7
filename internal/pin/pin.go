// Package pin implements certificate pinning for TLS clients, the way
// Starscream offers it: a pin is the base64 SHA-256 digest of a
// certificate's SubjectPublicKeyInfo, as printed by
//
//	openssl x509 -pubkey -noout -in cert.pem | openssl pkey -pubin -outform der |
//	    openssl dgst -sha256 -binary | base64
//
// Pinning the key rather than the certificate lets a server renew its
// certificate without breaking clients, as long as it keeps the key.
package pin

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Pins is a set of pinned public-key digests. The zero Pins matches nothing.
type Pins struct {
	set map[[sha256.Size]byte]struct{}
}

// New returns the set of the given pins. Each pin is the standard base64
// encoding (with padding) of a 32-byte SHA-256 digest, optionally prefixed
// with "sha256/" as HPKP and OkHttp write it. New fails on an empty list
// and names the first malformed pin, so that a typo is found at
// configuration time rather than as a mismatch at dial time.
func New(pins ...string) (Pins, error) {
	if len(pins) == 0 {
		return Pins{}, errors.New("pin: no pins given")
	}
	p := Pins{set: make(map[[sha256.Size]byte]struct{}, len(pins))}
	for _, s := range pins {
		d, err := parse(s)
		if err != nil {
			return Pins{}, err
		}
		p.set[d] = struct{}{}
	}
	return p, nil
}

func parse(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(s, "sha256/"))
	if err == nil && strings.ContainsAny(s, "\r\n") {
		// encoding/base64 skips line breaks; a pin is one token.
		err = errors.New("line break inside the pin")
	}
	if err != nil {
		return d, fmt.Errorf("pin: %q is not standard base64: %w", s, err)
	}
	if len(b) != sha256.Size {
		return d, fmt.Errorf("pin: %q decodes to %d bytes, want a %d-byte SHA-256 digest", s, len(b), sha256.Size)
	}
	copy(d[:], b)
	return d, nil
}

// Digest returns cert's pin: the base64 SHA-256 digest of its
// SubjectPublicKeyInfo.
func Digest(cert *x509.Certificate) string {
	d := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(d[:])
}

// Match reports whether cert's public key is pinned.
func (p Pins) Match(cert *x509.Certificate) bool {
	_, ok := p.set[sha256.Sum256(cert.RawSubjectPublicKeyInfo)]
	return ok
}
