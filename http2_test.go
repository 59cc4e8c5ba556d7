package starling_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// TestAcceptHTTP2Refusals checks the RFC 8441 request rules on HTTP/2
// requests that are not a valid extended CONNECT. The accepted case runs
// against a real HTTP/2 client in the interop module (TestHTTP2ExtendedConnect),
// since Go's server needs GODEBUG=http2xconnect=1 at process start.
func TestAcceptHTTP2Refusals(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		protocol string
		version  string
		status   int
		header   string // a response header that must be set, "Name: value"
	}{
		{"GET is HTTP/1.1's handshake", http.MethodGet, "", "13", http.StatusMethodNotAllowed, "Allow: CONNECT"},
		{"another :protocol", http.MethodConnect, "webtransport", "13", http.StatusBadRequest, ""},
		{"another version", http.MethodConnect, "websocket", "8", http.StatusUpgradeRequired, "Sec-Websocket-Version: 13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://example.com/ws", nil)
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			if tt.protocol != "" {
				r.Header.Set(":protocol", tt.protocol)
			}
			r.Header.Set("Sec-WebSocket-Version", tt.version)
			w := httptest.NewRecorder()
			c, err := starling.Accept(w, r, nil)
			if err == nil || c != nil {
				t.Fatal("Accept accepted an invalid extended CONNECT")
			}
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.header != "" {
				name, value, _ := strings.Cut(tt.header, ": ")
				if got := w.Header().Get(name); got != value {
					t.Fatalf("%s: %q, want %q", name, got, value)
				}
			}
		})
	}
}
