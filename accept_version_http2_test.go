package starling_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/starling-ws/starling"
)

// TestAcceptVersionRefusalOverHTTP2 checks the 426 answer to a version
// other than 13 over HTTP/2 and HTTP/3: it names the version supported
// (RFC 6455 section 4.4), but carries neither Upgrade nor Connection,
// connection-specific fields that make an HTTP/2 or HTTP/3 message
// malformed (RFC 9113 section 8.2.2, RFC 9114 section 4.2).
func TestAcceptVersionRefusalOverHTTP2(t *testing.T) {
	for _, proto := range []struct {
		name  string
		major int
	}{{"HTTP/2.0", 2}, {"HTTP/3.0", 3}} {
		t.Run(proto.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodConnect, "https://example.com/ws", nil)
			r.Proto, r.ProtoMajor, r.ProtoMinor = proto.name, proto.major, 0
			if proto.major == 2 {
				r.Header.Set(":protocol", "websocket")
			} else {
				r.Proto = "websocket" // as quic-go's HTTP/3 server reports :protocol
			}
			r.Header.Set("Sec-WebSocket-Version", "8")
			w := httptest.NewRecorder()
			if c, err := starling.Accept(w, r, nil); err == nil || c != nil {
				t.Fatal("Accept accepted version 8")
			}
			if w.Code != http.StatusUpgradeRequired || w.Header().Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("status %d with Sec-WebSocket-Version %q, want 426 with 13", w.Code, w.Header().Get("Sec-WebSocket-Version"))
			}
			for _, name := range []string{"Upgrade", "Connection"} {
				if v, ok := w.Header()[name]; ok {
					t.Errorf("the 426 carries %s: %q", name, v)
				}
			}
		})
	}
}
