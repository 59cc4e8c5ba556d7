package starling_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// issued is a certificate made for a test, with its key.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue signs tmpl with parent's key, or with a key of its own when parent
// is nil.
func issue(t *testing.T, tmpl *x509.Certificate, parent *issued) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, big.NewInt(1<<62)); err != nil {
		t.Fatal(err)
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{cert: cert, key: key}
}

func caCert(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// leafCert is a server certificate for names, valid from an hour ago to an
// hour ahead; names that parse as IP addresses go in the IP SANs.
func leafCert(names ...string) *x509.Certificate {
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

// testPKI is a root CA, an intermediate it signed, and a leaf for the
// loopback addresses and localhost that the intermediate signed.
type testPKI struct{ root, inter, leaf *issued }

func newTestPKI(t *testing.T) *testPKI {
	root := issue(t, caCert("Starling Test Root"), nil)
	inter := issue(t, caCert("Starling Test Intermediate"), root)
	leaf := issue(t, leafCert("localhost", "127.0.0.1", "::1"), inter)
	return &testPKI{root: root, inter: inter, leaf: leaf}
}

func (k *testPKI) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(k.root.cert)
	return p
}

// sent returns what a server presents: certs in this order, with the key
// of the first.
func sent(certs ...*issued) tls.Certificate {
	c := tls.Certificate{PrivateKey: certs[0].key}
	for _, ic := range certs {
		c.Certificate = append(c.Certificate, ic.cert.Raw)
	}
	return c
}

// startWSS starts a wss echo server on 127.0.0.1 presenting chain and
// returns its host:port.
func startWSS(t *testing.T, chain tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(echoHandler(nil))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{chain}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// pinDial dials wss://addr with opts and, on success, checks an echo.
func pinDial(t *testing.T, addr string, opts *starling.DialOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, "wss://"+addr+"/", opts)
	if err != nil {
		return err
	}
	echoOnce(t, c)
	return nil
}

// TestPinPositions pins each certificate of a chain the server sends as
// leaf and intermediate, with the root left to the client, in both modes.
func TestPinPositions(t *testing.T) {
	k := newTestPKI(t)
	addr := startWSS(t, sent(k.leaf, k.inter))
	for _, tt := range []struct {
		name     string
		pin      *issued
		pinOnly  bool
		mismatch bool
	}{
		{"leaf", k.leaf, false, false},
		{"intermediate", k.inter, false, false},
		{"root", k.root, false, false},
		{"leaf, pin only", k.leaf, true, false},
		{"intermediate, pin only", k.inter, true, false},
		// Pin-only mode sees only what the server sent, and it did not
		// send the root.
		{"root, pin only", k.root, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := &starling.DialOptions{Pins: []string{starling.PinOf(tt.pin.cert)}, PinOnly: tt.pinOnly}
			if !tt.pinOnly {
				opts.TLSConfig = &tls.Config{RootCAs: k.roots()}
			}
			err := pinDial(t, addr, opts)
			if tt.mismatch {
				checkPinMismatch(t, err, k.leaf, k.inter)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkPinMismatch checks that err is a *PinMismatchError naming the
// digests of seen.
func checkPinMismatch(t *testing.T, err error, seen ...*issued) {
	t.Helper()
	var pe *starling.PinMismatchError
	if !errors.Is(err, starling.ErrPinMismatch) || !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *PinMismatchError", err)
	}
	for _, c := range seen {
		if !strings.Contains(err.Error(), starling.PinOf(c.cert)) {
			t.Errorf("error %q does not name %s", err, starling.PinOf(c.cert))
		}
	}
}

// TestPinWrongHostname pins the key of a certificate issued for another
// name: the standard verification refuses it, pin-only mode does not check
// names.
func TestPinWrongHostname(t *testing.T) {
	k := newTestPKI(t)
	other := issue(t, leafCert("other.example"), k.inter)
	addr := startWSS(t, sent(other, k.inter))
	pins := []string{starling.PinOf(other.cert)}

	err := pinDial(t, addr, &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: k.roots()}, Pins: pins})
	var he x509.HostnameError
	if !errors.As(err, &he) || errors.Is(err, starling.ErrPinMismatch) {
		t.Fatalf("err = %v, want an x509.HostnameError", err)
	}
	if err := pinDial(t, addr, &starling.DialOptions{Pins: pins, PinOnly: true}); err != nil {
		t.Fatalf("pin only: %v", err)
	}
}

// TestPinOnlyValidityPeriod dials servers whose pinned certificate, or a
// certificate between the leaf and the pinned one, is out of its validity
// period. The error must be the type the standard verification gives for
// the same fault, so that callers (the client package's reconnect policy)
// can tell a bad certificate from a network failure.
func TestPinOnlyValidityPeriod(t *testing.T) {
	k := newTestPKI(t)
	expired := leafCert("127.0.0.1")
	expired.NotBefore, expired.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	early := leafCert("127.0.0.1")
	early.NotBefore, early.NotAfter = time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour)
	oldCA := caCert("Expired Intermediate")
	oldCA.NotBefore, oldCA.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	oldInter := issue(t, oldCA, k.root)
	underOld := issue(t, leafCert("127.0.0.1"), oldInter)

	for _, tt := range []struct {
		name  string
		chain []*issued
		pin   *issued
	}{
		{"expired self-signed", []*issued{issue(t, expired, nil)}, nil},
		{"not yet valid self-signed", []*issued{issue(t, early, nil)}, nil},
		{"expired leaf, pinned intermediate", []*issued{issue(t, expired, k.inter), k.inter}, k.inter},
		{"expired pinned intermediate", []*issued{underOld, oldInter}, oldInter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pin := tt.pin
			if pin == nil {
				pin = tt.chain[0]
			}
			addr := startWSS(t, sent(tt.chain...))
			err := pinDial(t, addr, &starling.DialOptions{Pins: []string{starling.PinOf(pin.cert)}, PinOnly: true})
			var inv x509.CertificateInvalidError
			var cv *tls.CertificateVerificationError
			if !errors.As(err, &inv) || inv.Reason != x509.Expired || !errors.As(err, &cv) {
				t.Fatalf("err = %v (%T), want an x509.CertificateInvalidError inside a *tls.CertificateVerificationError", err, errors.Unwrap(errors.Unwrap(err)))
			}
			if errors.Is(err, starling.ErrPinMismatch) {
				t.Fatalf("err = %v reports a mismatch; the pin matched", err)
			}
		})
	}
}

// TestPinChainOrder dials servers that send their chain out of order or
// with certificates that belong to no path to the root.
func TestPinChainOrder(t *testing.T) {
	k := newTestPKI(t)
	stray := issue(t, caCert("Stray CA"), nil)
	normal := func(pin *issued) *starling.DialOptions {
		return &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: k.roots()}, Pins: []string{starling.PinOf(pin.cert)}}
	}
	pinOnly := func(pin *issued) *starling.DialOptions {
		return &starling.DialOptions{Pins: []string{starling.PinOf(pin.cert)}, PinOnly: true}
	}
	for _, tt := range []struct {
		name     string
		chain    []*issued
		opts     *starling.DialOptions
		mismatch bool
	}{
		{"out of order, intermediate pinned", []*issued{k.leaf, k.root, k.inter}, normal(k.inter), false},
		{"out of order, root pinned", []*issued{k.leaf, k.root, k.inter}, normal(k.root), false},
		{"stray certificate, intermediate pinned", []*issued{k.leaf, stray, k.inter}, normal(k.inter), false},
		// A certificate the server sent that is on no verified chain does
		// not count, or anyone could append a copy of a pinned one.
		{"stray certificate pinned", []*issued{k.leaf, k.inter, stray}, normal(stray), true},
		{"root sent, pin only", []*issued{k.leaf, k.inter, k.root}, pinOnly(k.root), false},
		{"stray after the pinned intermediate, pin only", []*issued{k.leaf, k.inter, stray}, pinOnly(k.inter), false},
		{"stray certificate pinned, pin only", []*issued{k.leaf, k.inter, stray}, pinOnly(stray), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := pinDial(t, startWSS(t, sent(tt.chain...)), tt.opts)
			if tt.mismatch {
				if !errors.Is(err, starling.ErrPinMismatch) {
					t.Fatalf("err = %v, want ErrPinMismatch", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPinOnlyUnchainedPinExplained dials, in pin-only mode, servers that
// send the pinned certificate without the signatures that tie it to the
// leaf: the error must say so, rather than only deny that the pinned key
// was sent while listing it among the keys seen.
func TestPinOnlyUnchainedPinExplained(t *testing.T) {
	k := newTestPKI(t)
	foreign := issue(t, leafCert("127.0.0.1"), nil)
	for name, chain := range map[string][]*issued{
		"out of order":   {k.leaf, k.root, k.inter},
		"foreign leaf":   {foreign, k.inter},
		"stray in front": {k.leaf, foreign, k.inter},
	} {
		t.Run(name, func(t *testing.T) {
			err := pinDial(t, startWSS(t, sent(chain...)), &starling.DialOptions{Pins: []string{starling.PinOf(k.inter.cert)}, PinOnly: true})
			var pe *starling.PinMismatchError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "does not sign") || len(pe.Unchained) != 1 || pe.Unchained[0] != starling.PinOf(k.inter.cert) {
				t.Fatalf("err = %v, want a *PinMismatchError naming %s as pinned but not signing the chain", err, starling.PinOf(k.inter.cert))
			}
		})
	}
}
