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
			checkRefusal(t, r, tt.version, tt.status, tt.header)
		})
		// quic-go's HTTP/3 server reports :protocol as the request's
		// Proto. The accepted case runs in the h3 module.
		t.Run(tt.name+" over HTTP/3", func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://example.com/ws", nil)
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/3.0", 3, 0
			if tt.protocol != "" {
				r.Proto = tt.protocol
			}
			checkRefusal(t, r, tt.version, tt.status, tt.header)
		})
	}
}

// checkRefusal checks that Accept refuses r, carrying Sec-WebSocket-Version
// version, with status and, if set, the response header "Name: value".
func checkRefusal(t *testing.T, r *http.Request, version string, status int, header string) {
	t.Helper()
	r.Header.Set("Sec-WebSocket-Version", version)
	w := httptest.NewRecorder()
	c, err := starling.Accept(w, r, nil)
	if err == nil || c != nil {
		t.Fatal("Accept accepted an invalid extended CONNECT")
	}
	if w.Code != status {
		t.Fatalf("status %d, want %d", w.Code, status)
	}
	if header != "" {
		name, value, _ := strings.Cut(header, ": ")
		if got := w.Header().Get(name); got != value {
			t.Fatalf("%s: %q, want %q", name, got, value)
		}
	}
	if status == http.StatusBadRequest && !strings.Contains(w.Body.String(), `"webtransport"`) {
		t.Fatalf("reason %q does not name the protocol asked for", w.Body.String())
	}
}
