package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServeBadCertificateFiles checks that certificate files serve cannot
// use are named in a usage error, as connect's --cacert is, instead of a
// bare "tls: failed to find any PEM data in certificate input".
func TestServeBadCertificateFiles(t *testing.T) {
	t.Parallel()
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runInProcess("serve", "--addr", "127.0.0.1:0", "--tls-cert", junk, "--tls-key", junk)
	want := "starling: --tls-cert " + junk + ", --tls-key " + junk + ": tls: failed to find any PEM data in certificate input\n"
	if r.code != 2 || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want 2, %q", r.code, r.stderr, want)
	}
}
