package pin

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// Apply returns a clone of cfg (nil stands for an empty Config) for a TLS
// client whose handshake succeeds only if a pinned key is found. The check
// runs in VerifyConnection, inside the handshake, so a mismatch aborts the
// connection with a bad_certificate alert before the caller can send any
// byte. A VerifyConnection already in cfg still runs, after the pin check.
//
// In normal mode (pinOnly false) the standard verification runs first
// (roots, validity, hostname); then a pin must match a certificate of one of
// the verified chains, leaf, intermediate or root. Apply clears
// InsecureSkipVerify in this mode: pinning adds to verification, it never
// replaces it.
//
// In pin-only mode the pinned key replaces the roots, so that a self-signed
// certificate whose key is pinned is accepted. Apply sets
// InsecureSkipVerify, and the handshake succeeds only if:
//   - a pin matches the leaf, or a pin matches another certificate the
//     server sent and the others it sent link the leaf to it, each signed
//     by the next, in whatever order they came (RFC 8446 section 4.4.2
//     asks clients to accept any order but the leaf's, which is first). A
//     pinned CA certificate is public, so matching it without the
//     signatures would let anyone who copies it impersonate the server;
//   - every certificate from the leaf up to the pinned one is within its
//     validity period, at cfg.Time() if set, else now. Failing that, the
//     error is the standard verification's for the same fault: an
//     x509.CertificateInvalidError in a *tls.CertificateVerificationError.
//
// The hostname is not checked in pin-only mode, as with Starscream's
// self-signed mode: the pinned key is the server's identity. Key usages,
// name constraints and revocation are not checked either.
func (p Pins) Apply(cfg *tls.Config, pinOnly bool) *tls.Config {
	c := &tls.Config{}
	if cfg != nil {
		c = cfg.Clone()
	}
	check := p.checkVerified
	if pinOnly {
		check = p.pinOnlyCheck(c.Time)
	}
	c.InsecureSkipVerify = pinOnly
	next := c.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := check(cs); err != nil {
			return err
		}
		if next != nil {
			return next(cs)
		}
		return nil
	}
	return c
}

// checkVerified accepts cs if a certificate of its verified chains is pinned.
func (p Pins) checkVerified(cs tls.ConnectionState) error {
	var seen []string
	done := make(map[string]bool)
	for _, chain := range cs.VerifiedChains {
		for _, cert := range chain {
			if p.Match(cert) {
				return nil
			}
			if d := Digest(cert); !done[d] {
				done[d] = true
				seen = append(seen, d)
			}
		}
	}
	return &MismatchError{Seen: seen}
}

// pinOnlyCheck returns the pin-only check described on Apply, with now as
// the clock (time.Now if nil).
func (p Pins) pinOnlyCheck(now func() time.Time) func(tls.ConnectionState) error {
	if now == nil {
		now = time.Now
	}
	return func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		e := &MismatchError{Seen: make([]string, len(certs))}
		for i, cert := range certs {
			e.Seen[i] = Digest(cert)
			if !p.Match(cert) {
				continue
			}
			chain := chainTo(certs, i)
			if chain == nil {
				e.Unchained = append(e.Unchained, e.Seen[i])
				continue
			}
			if err := checkValidity(chain, now()); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
			}
			return nil
		}
		return e
	}
}

// maxSignatureChecks bounds the work a server's certificates can make
// chainTo do, as crypto/x509 bounds its own chain building.
const maxSignatureChecks = 100

// chainTo returns certificates of certs that lead from the leaf, certs[0],
// to certs[to], each signed by the next, or nil if there are none. It
// searches depth first, trying each certificate once: whatever cannot
// reach certs[to] from one path cannot from another either.
func chainTo(certs []*x509.Certificate, to int) []*x509.Certificate {
	tried := make([]bool, len(certs))
	checks := 0
	var chain []*x509.Certificate
	var walk func(i int) bool
	walk = func(i int) bool {
		tried[i] = true
		chain = append(chain, certs[i])
		if i == to {
			return true
		}
		for j, issuer := range certs {
			if tried[j] || !bytes.Equal(certs[i].RawIssuer, issuer.RawSubject) || checks == maxSignatureChecks {
				continue
			}
			checks++
			if certs[i].CheckSignatureFrom(issuer) == nil && walk(j) {
				return true
			}
		}
		chain = chain[:len(chain)-1]
		return false
	}
	if !walk(0) {
		return nil
	}
	return chain
}

// checkValidity returns an x509.CertificateInvalidError for the first
// certificate of chain outside its validity period at t.
func checkValidity(chain []*x509.Certificate, t time.Time) error {
	for _, cert := range chain {
		if t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
			return x509.CertificateInvalidError{
				Cert:   cert,
				Reason: x509.Expired,
				Detail: fmt.Sprintf("current time %s is outside %s to %s",
					t.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339),
					cert.NotAfter.UTC().Format(time.RFC3339)),
			}
		}
	}
	return nil
}
