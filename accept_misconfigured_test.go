package starling

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAcceptMisconfiguredCompression checks that Accept refuses to run
// with CompressionOptions that RFC 7692 cannot express or flate cannot
// honour: the client is answered 500 without the details, which are the
// server's business, and Accept's error names the field at fault. Served
// through net/http and through ReadHandshake.
func TestAcceptMisconfiguredCompression(t *testing.T) {
	bad := []CompressionOptions{
		{Mode: CompressionContextTakeover, ServerMaxWindowBits: 16}, // section 7.1.2.1: 8 to 15
		{Mode: CompressionNoContextTakeover, ClientMaxWindowBits: 7},
		{Mode: CompressionContextTakeover, Level: 10},
	}
	req := handshakeRequest("GET / HTTP/1.1", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	for _, o := range bad {
		opts := &AcceptOptions{Compression: o}
		check := func(t *testing.T, resp *http.Response, body string, err error) {
			t.Helper()
			checkRefused(t, resp, body, http.StatusInternalServerError, "misconfigured", [2]string{})
			if strings.Contains(body, "bits") || strings.Contains(body, "level") {
				t.Errorf("the client is told the server's configuration: %q", body)
			}
			if err == nil || !strings.Contains(err.Error(), "AcceptOptions.Compression") {
				t.Errorf("Accept: %v, want an error naming AcceptOptions.Compression", err)
			}
		}
		t.Run("net/http", func(t *testing.T) {
			s := newAcceptServer(t, opts, nil)
			resp, body, _, _ := rawRequest(t, s.Listener.Addr().String(), req)
			check(t, resp, body, s.result(t).err)
		})
		t.Run("ReadHandshake", func(t *testing.T) {
			s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) { return hs.Accept(opts) })
			resp, body, _, _ := rawRequest(t, s.addr(), req)
			check(t, resp, body, s.result(t).err)
		})
	}
}
