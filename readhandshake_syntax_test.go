package starling

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestReadHandshakeRefusesWhatNetHTTPRefuses checks that ReadHandshake
// refuses, with 400, the requests net/http's server refuses before any
// handler runs, and that RFC 9112 requires a server to refuse: whitespace
// between a field name and its colon (section 5.1), and a Host that is not
// a host (section 3.2). A front end that reads such a field otherwise than
// the server does is how requests are smuggled.
func TestReadHandshakeRefusesWhatNetHTTPRefuses(t *testing.T) {
	tests := []struct{ name, request, reason string }{
		{"space before colon", handshakeRequest("GET / HTTP/1.1", "+X-Forwarded-For : 10.0.0.1"), `invalid header field name "X-Forwarded-For "`},
		{"Host with a space", handshakeRequest("GET / HTTP/1.1", "Host: example.com evil.example"), "invalid Host"},
		{"Host with a path", handshakeRequest("GET / HTTP/1.1", "Host: example.com/x"), "invalid Host"},
		{"Host with user info", handshakeRequest("GET / HTTP/1.1", "Host: user@example.com"), "invalid Host"},
		{"Host not ASCII", handshakeRequest("GET / HTTP/1.1", "Host: ex\u00e4mple.com"), "invalid Host"},
		{"Host starting with user info", handshakeRequest("GET / HTTP/1.1", "Host: @example.com"), "invalid Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAcceptServer(t, nil, nil)
			if resp, body, _, _ := rawRequest(t, a.Listener.Addr().String(), tt.request); resp.StatusCode != 400 {
				t.Fatalf("net/http answered %s (%q); the case is not one it refuses", resp.Status, body)
			}

			s := newHandshakeServer(t, context.Background(), nil)
			resp, body, _, _ := rawRequest(t, s.addr(), tt.request)
			checkRefused(t, resp, body, 400, tt.reason, [2]string{})
			if r := s.result(t); r.c != nil || !errors.Is(r.err, ErrBadHandshake) || !strings.Contains(r.err.Error(), tt.reason) {
				t.Errorf("ReadHandshake returned (%v, %v), want an ErrBadHandshake naming %q", r.c, r.err, tt.reason)
			}
		})
	}
}

// TestReadHandshakeHostForms checks Hosts that are valid and must still be
// accepted: a port, an IPv6 literal with a zone, a name in capitals (hosts
// are case-insensitive), and a name in percent-encoding or with sub-delims
// (RFC 3986 section 3.2.2). Between them they hold the first and last
// letter and digit of each range a host may use.
func TestReadHandshakeHostForms(t *testing.T) {
	for _, host := range []string{"example.com:8080", "[fe80::1%25eth0]:443", "127.0.0.1", "a-b_c~d.example", "x%41y.example", "WWW.AMAZON.CO.ZA:9090", "pizza.example"} {
		t.Run(host, func(t *testing.T) {
			s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) {
				return hs.Accept(&AcceptOptions{InsecureSkipOriginCheck: true})
			})
			resp, body, _, _ := rawRequest(t, s.addr(), handshakeRequest("GET / HTTP/1.1", "Host: "+host))
			if resp.StatusCode != 101 {
				t.Fatalf("status %s (%q), want 101", resp.Status, body)
			}
			if r := s.result(t); r.err != nil || r.hs.Request.Host != host {
				t.Fatalf("Accept: %v, Host %q", r.err, r.hs.Request.Host)
			}
		})
	}
}
