package starling_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/internal/testpki"
)

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
	k := testpki.New(t)
	addr := startWSS(t, testpki.Chain(k.Leaf, k.Inter))
	for _, tt := range []struct {
		name     string
		pin      *testpki.Cert
		pinOnly  bool
		mismatch bool
	}{
		{"leaf", k.Leaf, false, false},
		{"intermediate", k.Inter, false, false},
		{"root", k.Root, false, false},
		{"leaf, pin only", k.Leaf, true, false},
		{"intermediate, pin only", k.Inter, true, false},
		// Pin-only mode sees only what the server sent, and it did not
		// send the root.
		{"root, pin only", k.Root, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := &starling.DialOptions{Pins: []string{starling.PinOf(tt.pin.Cert)}, PinOnly: tt.pinOnly}
			if !tt.pinOnly {
				opts.TLSConfig = &tls.Config{RootCAs: k.Roots()}
			}
			err := pinDial(t, addr, opts)
			if tt.mismatch {
				checkPinMismatch(t, err, k.Leaf, k.Inter)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkPinMismatch checks that err is a *PinMismatchError naming the
// digests of seen.
func checkPinMismatch(t *testing.T, err error, seen ...*testpki.Cert) {
	t.Helper()
	var pe *starling.PinMismatchError
	if !errors.Is(err, starling.ErrPinMismatch) || !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *PinMismatchError", err)
	}
	for _, c := range seen {
		if !strings.Contains(err.Error(), starling.PinOf(c.Cert)) {
			t.Errorf("error %q does not name %s", err, starling.PinOf(c.Cert))
		}
	}
}

// TestPinWrongHostname pins the key of a certificate issued for another
// name: the standard verification refuses it, pin-only mode does not check
// names.
func TestPinWrongHostname(t *testing.T) {
	k := testpki.New(t)
	other := testpki.Issue(t, testpki.Leaf("other.example"), k.Inter)
	addr := startWSS(t, testpki.Chain(other, k.Inter))
	pins := []string{starling.PinOf(other.Cert)}

	err := pinDial(t, addr, &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: k.Roots()}, Pins: pins})
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
	k := testpki.New(t)
	expired := testpki.Leaf("127.0.0.1")
	expired.NotBefore, expired.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	early := testpki.Leaf("127.0.0.1")
	early.NotBefore, early.NotAfter = time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour)
	oldCA := testpki.CA("Expired Intermediate")
	oldCA.NotBefore, oldCA.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	oldInter := testpki.Issue(t, oldCA, k.Root)
	underOld := testpki.Issue(t, testpki.Leaf("127.0.0.1"), oldInter)

	for _, tt := range []struct {
		name  string
		chain []*testpki.Cert
		pin   *testpki.Cert
	}{
		{"expired self-signed", []*testpki.Cert{testpki.Issue(t, expired, nil)}, nil},
		{"not yet valid self-signed", []*testpki.Cert{testpki.Issue(t, early, nil)}, nil},
		{"expired leaf, pinned intermediate", []*testpki.Cert{testpki.Issue(t, expired, k.Inter), k.Inter}, k.Inter},
		{"expired pinned intermediate", []*testpki.Cert{underOld, oldInter}, oldInter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pin := tt.pin
			if pin == nil {
				pin = tt.chain[0]
			}
			addr := startWSS(t, testpki.Chain(tt.chain...))
			err := pinDial(t, addr, &starling.DialOptions{Pins: []string{starling.PinOf(pin.Cert)}, PinOnly: true})
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
	k := testpki.New(t)
	stray := testpki.Issue(t, testpki.CA("Stray CA"), nil)
	normal := func(pin *testpki.Cert) *starling.DialOptions {
		return &starling.DialOptions{TLSConfig: &tls.Config{RootCAs: k.Roots()}, Pins: []string{starling.PinOf(pin.Cert)}}
	}
	pinOnly := func(pin *testpki.Cert) *starling.DialOptions {
		return &starling.DialOptions{Pins: []string{starling.PinOf(pin.Cert)}, PinOnly: true}
	}
	for _, tt := range []struct {
		name     string
		chain    []*testpki.Cert
		opts     *starling.DialOptions
		mismatch bool
	}{
		{"out of order, intermediate pinned", []*testpki.Cert{k.Leaf, k.Root, k.Inter}, normal(k.Inter), false},
		{"out of order, root pinned", []*testpki.Cert{k.Leaf, k.Root, k.Inter}, normal(k.Root), false},
		{"stray certificate, intermediate pinned", []*testpki.Cert{k.Leaf, stray, k.Inter}, normal(k.Inter), false},
		// A certificate the server sent that is on no verified chain does
		// not count, or anyone could append a copy of a pinned one.
		{"stray certificate pinned", []*testpki.Cert{k.Leaf, k.Inter, stray}, normal(stray), true},
		{"root sent, pin only", []*testpki.Cert{k.Leaf, k.Inter, k.Root}, pinOnly(k.Root), false},
		{"stray after the pinned intermediate, pin only", []*testpki.Cert{k.Leaf, k.Inter, stray}, pinOnly(k.Inter), false},
		{"stray certificate pinned, pin only", []*testpki.Cert{k.Leaf, k.Inter, stray}, pinOnly(stray), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := pinDial(t, startWSS(t, testpki.Chain(tt.chain...)), tt.opts)
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
// send the pinned certificate without the certificates that link it to
// the leaf: the error must say so, rather than only deny that the pinned
// key was sent while listing it among the keys seen. The same chains in
// another order, or with a stray certificate, are accepted (RFC 8446
// section 4.4.2).
func TestPinOnlyUnchainedPinExplained(t *testing.T) {
	k := testpki.New(t)
	foreign := testpki.Issue(t, testpki.Leaf("127.0.0.1"), nil)
	for name, tc := range map[string]struct {
		chain []*testpki.Cert
		pin   *testpki.Cert
		ok    bool
	}{
		"foreign leaf":         {[]*testpki.Cert{foreign, k.Inter}, k.Inter, false},
		"intermediate missing": {[]*testpki.Cert{k.Leaf, k.Root}, k.Root, false},
		"out of order":         {[]*testpki.Cert{k.Leaf, k.Root, k.Inter}, k.Root, true},
		"stray in front":       {[]*testpki.Cert{k.Leaf, foreign, k.Inter}, k.Inter, true},
	} {
		t.Run(name, func(t *testing.T) {
			pin := starling.PinOf(tc.pin.Cert)
			err := pinDial(t, startWSS(t, testpki.Chain(tc.chain...)), &starling.DialOptions{Pins: []string{pin}, PinOnly: true})
			if tc.ok {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				return
			}
			var pe *starling.PinMismatchError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "links its certificate to the leaf") || len(pe.Unchained) != 1 || pe.Unchained[0] != pin {
				t.Fatalf("err = %v, want a *PinMismatchError naming %s as pinned but unlinked", err, pin)
			}
		})
	}
}
