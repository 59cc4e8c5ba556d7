package proxy

import (
	"strings"
	"testing"
)

// TestValidFieldName checks CONNECT header names against the token rule
// of RFC 9110 section 5.6.2, byte by byte.
func TestValidFieldName(t *testing.T) {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := 0; c < 256; c++ {
		want := strings.IndexByte(tchar, byte(c)) >= 0
		for _, name := range []string{string([]byte{byte(c)}), "X" + string([]byte{byte(c)}) + "Y"} {
			if got := validFieldName(name); got != want {
				t.Errorf("validFieldName(%q) = %v, want %v", name, got, want)
			}
		}
	}
	if validFieldName("") {
		t.Error("the empty name is valid")
	}
}

// TestConnectRequestRefusesBreaks checks that no CONNECT header value can
// end its line early and start another field or the body.
func TestConnectRequestRefusesBreaks(t *testing.T) {
	d := &Dialer{}
	for _, v := range []string{"a\rb", "a\nb", "a\x00b"} {
		d.ConnectHeader = map[string][]string{"X-Test": {v}}
		if req, err := d.connectRequest(mustURL(t, "http://proxy"), "example.com:443"); err == nil {
			t.Errorf("value %q: request %q", v, req)
		}
	}
}
