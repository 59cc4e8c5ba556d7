package pin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling/internal/testpki"
)

func mustNew(t *testing.T, pins ...string) Pins {
	t.Helper()
	p, err := New(pins...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// otherPin is a valid pin of a key no test server uses.
const otherPin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

func TestVerifiedChainMatch(t *testing.T) {
	k := testpki.New(t)
	tests := []struct {
		name string
		pins []string
	}{
		{"leaf", []string{Digest(k.Leaf.Cert)}},
		{"intermediate", []string{Digest(k.Inter.Cert)}},
		{"root not sent by the server", []string{Digest(k.Root.Cert)}},
		{"several with one match", []string{otherPin, Digest(k.Inter.Cert)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustNew(t, tt.pins...).Apply(clientConfig(k), false)
			if cerr, serr := handshake(t, serverChain(k), cfg); cerr != nil || serr != nil {
				t.Fatalf("client: %v; server: %v", cerr, serr)
			}
		})
	}
}

func TestMismatch(t *testing.T) {
	k := testpki.New(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			base := clientConfig(k)
			base.MaxVersion = v
			testMismatch(t, k, mustNew(t, otherPin).Apply(base, false))
		})
	}
}

func testMismatch(t *testing.T, k *testpki.PKI, cfg *tls.Config) {
	cerr, serr := handshake(t, serverChain(k), cfg)
	if !errors.Is(cerr, ErrMismatch) {
		t.Fatalf("client error = %v, want ErrMismatch", cerr)
	}
	var me *MismatchError
	if !errors.As(cerr, &me) {
		t.Fatalf("client error %T is not a *MismatchError", cerr)
	}
	want := []string{Digest(k.Leaf.Cert), Digest(k.Inter.Cert), Digest(k.Root.Cert)}
	if !slices.Equal(me.Seen, want) {
		t.Fatalf("Seen = %q, want %q", me.Seen, want)
	}
	for _, d := range want {
		if !strings.Contains(cerr.Error(), d) {
			t.Errorf("error %q does not name %s", cerr, d)
		}
	}
	// The client aborted inside the handshake, so the server never got to
	// read application data.
	if serr == nil || !strings.Contains(serr.Error(), "bad certificate") {
		t.Fatalf("server error = %v, want a bad_certificate alert", serr)
	}
}

func TestNormalModeRejectsSelfSigned(t *testing.T) {
	self := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil)
	base := &tls.Config{ServerName: "localhost", InsecureSkipVerify: true}
	cfg := mustNew(t, Digest(self.Cert)).Apply(base, false)
	if cfg.InsecureSkipVerify {
		t.Fatal("normal mode kept InsecureSkipVerify")
	}
	cerr, _ := handshake(t, testpki.Chain(self), cfg)
	var ua x509.UnknownAuthorityError
	if !errors.As(cerr, &ua) {
		t.Fatalf("client error = %v, want x509.UnknownAuthorityError", cerr)
	}
	if errors.Is(cerr, ErrMismatch) {
		t.Fatal("an untrusted certificate was reported as a pin mismatch")
	}
}

func TestPinOnly(t *testing.T) {
	k := testpki.New(t)
	self := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil)
	tests := []struct {
		name       string
		serverName string
		cert       tls.Certificate
		pins       []string
		wantErr    error // nil means success
	}{
		{"self-signed pinned", "localhost", testpki.Chain(self), []string{Digest(self.Cert)}, nil},
		{"self-signed, hostname not checked", "other.example", testpki.Chain(self), []string{otherPin, Digest(self.Cert)}, nil},
		{"self-signed not pinned", "localhost", testpki.Chain(self), []string{otherPin}, ErrMismatch},
		{"pinned intermediate signs the leaf", "localhost", serverChain(k), []string{Digest(k.Inter.Cert)}, nil},
		// An attacker's own certificate followed by the real, public,
		// pinned intermediate: the pin matches but the signature does not.
		{"pinned intermediate appended to a foreign leaf", "localhost", testpki.Chain(self, k.Inter), []string{Digest(k.Inter.Cert)}, ErrMismatch},
		{"root not sent by the server", "localhost", serverChain(k), []string{Digest(k.Root.Cert)}, ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustNew(t, tt.pins...).Apply(&tls.Config{ServerName: tt.serverName}, true)
			cerr, serr := handshake(t, tt.cert, cfg)
			if tt.wantErr == nil {
				if cerr != nil || serr != nil {
					t.Fatalf("client: %v; server: %v", cerr, serr)
				}
				return
			}
			if !errors.Is(cerr, tt.wantErr) {
				t.Fatalf("client error = %v, want %v", cerr, tt.wantErr)
			}
			if serr == nil {
				t.Fatal("server completed the handshake")
			}
		})
	}
}

func TestPinOnlyChecksValidity(t *testing.T) {
	tmpl := testpki.Leaf("localhost", "127.0.0.1")
	tmpl.NotBefore = time.Now().Add(-48 * time.Hour)
	tmpl.NotAfter = time.Now().Add(-24 * time.Hour)
	expired := testpki.Issue(t, tmpl, nil)
	cfg := mustNew(t, Digest(expired.Cert)).Apply(&tls.Config{ServerName: "localhost"}, true)
	cerr, _ := handshake(t, testpki.Chain(expired), cfg)
	var inv x509.CertificateInvalidError
	if !errors.As(cerr, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("client error = %v, want x509.CertificateInvalidError for expiry", cerr)
	}
	// The standard verification wraps the same fault so; callers tell a
	// bad certificate from other failures by it.
	var cv *tls.CertificateVerificationError
	if !errors.As(cerr, &cv) || len(cv.UnverifiedCertificates) != 1 {
		t.Fatalf("client error = %v, want a *tls.CertificateVerificationError with the certificate sent", cerr)
	}

	// The same certificate is accepted at a time inside its period: the
	// check reads cfg.Time.
	cfg = mustNew(t, Digest(expired.Cert)).Apply(&tls.Config{
		ServerName: "localhost",
		Time:       func() time.Time { return time.Now().Add(-36 * time.Hour) },
	}, true)
	if cerr, serr := handshake(t, testpki.Chain(expired), cfg); cerr != nil || serr != nil {
		t.Fatalf("client: %v; server: %v", cerr, serr)
	}
}

func TestApplyKeepsCallerVerifyConnection(t *testing.T) {
	k := testpki.New(t)
	errCaller := errors.New("caller's check failed")
	var calls int
	base := clientConfig(k)
	base.VerifyConnection = func(tls.ConnectionState) error {
		calls++
		return errCaller
	}
	cfg := mustNew(t, Digest(k.Leaf.Cert)).Apply(base, false)
	cerr, _ := handshake(t, serverChain(k), cfg)
	if !errors.Is(cerr, errCaller) || calls != 1 {
		t.Fatalf("client error = %v after %d calls, want the caller's error after 1", cerr, calls)
	}

	// On a mismatch the pin check fails first and the caller's is skipped.
	calls = 0
	cfg = mustNew(t, otherPin).Apply(base, false)
	if cerr, _ := handshake(t, serverChain(k), cfg); !errors.Is(cerr, ErrMismatch) || calls != 0 {
		t.Fatalf("client error = %v after %d calls, want ErrMismatch after 0", cerr, calls)
	}
}

func TestApplyClones(t *testing.T) {
	base := &tls.Config{ServerName: "localhost"}
	cfg := mustNew(t, otherPin).Apply(base, true)
	if cfg == base || base.VerifyConnection != nil || base.InsecureSkipVerify {
		t.Fatal("Apply modified its argument")
	}
	if cfg.ServerName != "localhost" {
		t.Fatalf("clone lost ServerName: %q", cfg.ServerName)
	}
	if nilCfg := mustNew(t, otherPin).Apply(nil, false); nilCfg.VerifyConnection == nil {
		t.Fatal("Apply(nil) installed no check")
	}
}

func TestMismatchErrorWithoutCertificates(t *testing.T) {
	err := error(&MismatchError{})
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "no certificate") {
		t.Fatalf("error = %q", err)
	}
}

// TestPinOnlyUnchained checks that a pinned certificate sent without the
// signatures tying it to the leaf is named as such in the error, which
// otherwise lists a pinned key as seen while denying it was sent.
func TestPinOnlyUnchained(t *testing.T) {
	k := testpki.New(t)
	self := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil)
	cfg := mustNew(t, Digest(k.Inter.Cert)).Apply(&tls.Config{ServerName: "localhost"}, true)
	cerr, _ := handshake(t, testpki.Chain(self, k.Inter), cfg)
	var me *MismatchError
	if !errors.As(cerr, &me) || !slices.Equal(me.Unchained, []string{Digest(k.Inter.Cert)}) || !strings.Contains(cerr.Error(), "links its certificate to the leaf") {
		t.Fatalf("client error = %v, want a *MismatchError naming the pinned intermediate as unchained", cerr)
	}
	// A plain mismatch names no pinned key.
	cfg = mustNew(t, otherPin).Apply(&tls.Config{ServerName: "localhost"}, true)
	cerr, _ = handshake(t, testpki.Chain(self, k.Inter), cfg)
	if !errors.As(cerr, &me) || me.Unchained != nil || strings.Contains(cerr.Error(), "links its certificate to the leaf") {
		t.Fatalf("client error = %v, want a plain mismatch", cerr)
	}
}
