package pin

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/starling-ws/starling/internal/testpki"
)

// TestPinOnlyAnyOrder has a server send its chain out of order, or with a
// certificate that belongs to no chain: pin-only mode must still find the
// signatures from the leaf up to the pinned certificate, since RFC 8446
// section 4.4.2 asks clients to accept any order but the leaf's. A pinned
// certificate that signs nothing on the way from the leaf is still refused.
func TestPinOnlyAnyOrder(t *testing.T) {
	k := testpki.New(t)
	stray := testpki.Issue(t, testpki.CA("stray"), nil)
	cases := []struct {
		name  string
		chain tls.Certificate
		pin   *testpki.Cert
		ok    bool
	}{
		{"root before intermediate", testpki.Chain(k.Leaf, k.Root, k.Inter), k.Root, true},
		{"stray certificate between", testpki.Chain(k.Leaf, stray, k.Inter, k.Root), k.Root, true},
		{"intermediate after root", testpki.Chain(k.Leaf, k.Root, k.Inter), k.Inter, true},
		{"root without intermediate", testpki.Chain(k.Leaf, k.Root), k.Root, false},
		{"stray pinned", testpki.Chain(k.Leaf, stray, k.Inter), stray, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustNew(t, Digest(tc.pin.Cert)).Apply(&tls.Config{ServerName: "localhost"}, true)
			cerr, _ := handshake(t, tc.chain, cfg)
			switch {
			case tc.ok && cerr != nil:
				t.Fatalf("handshake failed: %v", cerr)
			case !tc.ok && !errors.Is(cerr, ErrMismatch):
				t.Fatalf("client error = %v, want a pin mismatch", cerr)
			}
		})
	}
}
