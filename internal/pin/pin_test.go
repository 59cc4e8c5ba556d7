package pin

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/starling-ws/starling/internal/testpki"
)

func TestNew(t *testing.T) {
	d := sha256.Sum256([]byte("key"))
	good := base64.StdEncoding.EncodeToString(d[:])
	short := sha1.Sum([]byte("key"))
	tests := []struct {
		name    string
		pins    []string
		wantErr string // substring; empty means success
	}{
		{"one", []string{good}, ""},
		{"sha256 prefix", []string{"sha256/" + good}, ""},
		{"several", []string{good, base64.StdEncoding.EncodeToString(make([]byte, 32))}, ""},
		{"none", nil, "no pins"},
		{"empty string", []string{""}, "decodes to 0 bytes"},
		{"sha1 length", []string{base64.StdEncoding.EncodeToString(short[:])}, "decodes to 20 bytes"},
		{"url alphabet", []string{base64.URLEncoding.EncodeToString(bytesRepeat(0xfb, 32))}, "not standard base64"},
		{"unpadded", []string{strings.TrimRight(good, "=")}, "not standard base64"},
		{"trailing space", []string{good + " "}, "not standard base64"},
		{"line break", []string{good[:20] + "\n" + good[20:]}, "line break"},
		{"hex", []string{strings.Repeat("ab", 32)}, "decodes to 48 bytes"},
		{"second bad", []string{good, "!!"}, `"!!"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.pins...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%q) = %v", tt.pins, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New(%q) error = %v, want one containing %q", tt.pins, err, tt.wantErr)
			}
		})
	}
}

func bytesRepeat(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

// TestDigest checks Digest against the openssl recipe in the package
// comment: the DER of the public key, hashed, in base64.
func TestDigest(t *testing.T) {
	c := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil)
	der, err := x509.MarshalPKIXPublicKey(&c.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	want := base64.StdEncoding.EncodeToString(sum[:])
	if got := Digest(c.Cert); got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
	p, err := New(want)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match(c.Cert) {
		t.Fatal("Match is false for the certificate's own digest")
	}
	if other := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil); p.Match(other.Cert) {
		t.Fatal("Match is true for another key")
	}
}

func TestZeroPinsMatchNothing(t *testing.T) {
	c := testpki.Issue(t, testpki.Leaf("localhost", "127.0.0.1"), nil)
	if (Pins{}).Match(c.Cert) {
		t.Fatal("zero Pins matched a certificate")
	}
}

func FuzzNew(f *testing.F) {
	f.Add("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	f.Add("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	f.Add("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU")
	f.Add("")
	f.Add("sha256/")
	f.Add("====")
	f.Add("47DEQpj8HBSa+/TImW+5JCeu\r\nQeRkm5NMpJWZG3hSuFU=")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(s)
		if err != nil {
			return
		}
		// Whatever New accepts is a digest that re-encodes to the pin.
		if len(p.set) != 1 {
			t.Fatalf("New(%q) holds %d pins", s, len(p.set))
		}
		for d := range p.set {
			if enc := base64.StdEncoding.EncodeToString(d[:]); enc != strings.TrimPrefix(s, "sha256/") {
				t.Fatalf("New(%q) stored %s", s, enc)
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	c := testpki.Issue(b, testpki.Leaf("localhost", "127.0.0.1"), nil)
	p, err := New(otherPin, Digest(c.Cert))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(c.Cert) {
			b.Fatal("no match")
		}
	}
}
