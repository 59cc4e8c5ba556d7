// Package testpki makes certificates for tests: a root CA, an
// intermediate and a leaf for the loopback names, or any chain a test
// needs, each with its key.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// Cert is a certificate made for a test, with its key.
type Cert struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Issue signs tmpl with parent's key, or with a key of its own when parent
// is nil (self-signed).
func Issue(t testing.TB, tmpl *x509.Certificate, parent *Cert) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, big.NewInt(1<<62)); err != nil {
		t.Fatal(err)
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: cert, Key: key}
}

// CA is the template of a CA certificate valid from an hour ago to an hour
// ahead.
func CA(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// Leaf is the template of a server certificate for names, valid from an
// hour ago to an hour ahead; names that parse as IP addresses go in the IP
// SANs.
func Leaf(names ...string) *x509.Certificate {
	c := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			c.IPAddresses = append(c.IPAddresses, ip)
		} else {
			c.DNSNames = append(c.DNSNames, n)
		}
	}
	return c
}

// Chain returns what a server presents: certs in this order, with the key
// of the first.
func Chain(certs ...*Cert) tls.Certificate {
	c := tls.Certificate{PrivateKey: certs[0].Key, Leaf: certs[0].Cert}
	for _, tc := range certs {
		c.Certificate = append(c.Certificate, tc.Cert.Raw)
	}
	return c
}

// PKI is a root CA, an intermediate it signed, and a leaf for localhost,
// 127.0.0.1 and ::1 that the intermediate signed.
type PKI struct{ Root, Inter, Leaf *Cert }

// New makes a PKI.
func New(t testing.TB) *PKI {
	root := Issue(t, CA("Starling Test Root"), nil)
	inter := Issue(t, CA("Starling Test Intermediate"), root)
	leaf := Issue(t, Leaf("localhost", "127.0.0.1", "::1"), inter)
	return &PKI{Root: root, Inter: inter, Leaf: leaf}
}

// Roots returns a pool holding p's root.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root.Cert)
	return pool
}
