package pin

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

// testCert is a certificate generated for a test, with its key.
type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCert signs tmpl with parent's key, or with its own key when parent is
// nil (self-signed).
func newCert(t testing.TB, tmpl *x509.Certificate, parent *testCert) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: cert, key: key}
}

func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func leafTemplate(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// pki is a root CA, an intermediate CA it signed, and a leaf for localhost
// the intermediate signed.
type pki struct {
	root, inter, leaf *testCert
}

func newPKI(t *testing.T) *pki {
	root := newCert(t, caTemplate("Starling Test Root"), nil)
	inter := newCert(t, caTemplate("Starling Test Intermediate"), root)
	leaf := newCert(t, leafTemplate("localhost"), inter)
	return &pki{root: root, inter: inter, leaf: leaf}
}

// serverChain returns the certificate a server presents: leaf and
// intermediate, as servers do (the root stays with the client).
func (p *pki) serverChain() tls.Certificate {
	return chain(p.leaf, p.inter)
}

// clientConfig returns a client configuration trusting p's root.
func (p *pki) clientConfig() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.root.cert)
	return &tls.Config{RootCAs: roots, ServerName: "localhost"}
}

// chain returns a tls.Certificate sending certs in order, with the key of
// the first.
func chain(certs ...*testCert) tls.Certificate {
	c := tls.Certificate{PrivateKey: certs[0].key, Leaf: certs[0].cert}
	for _, tc := range certs {
		c.Certificate = append(c.Certificate, tc.cert.Raw)
	}
	return c
}
