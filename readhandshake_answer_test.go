package starling

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestHandshakeAnsweredOnce checks that a Handshake is answered once
// (Handshake's doc: exactly one of Accept and Refuse answers it): after
// Refuse, a second Refuse or an Accept fails and says why, instead of
// failing on the closed connection with an error that hides the mistake.
func TestHandshakeAnsweredOnce(t *testing.T) {
	s := newHandshakeServer(t, context.Background(), func(hs *Handshake) (*Conn, error) {
		if err := hs.Refuse(http.StatusNotFound, "not here"); err != nil {
			return nil, err
		}
		if err := hs.Refuse(http.StatusGone, "gone"); err == nil || !strings.Contains(err.Error(), "already been answered") {
			t.Errorf("second Refuse: %v, want an error saying the handshake was answered", err)
		}
		c, err := hs.Accept(nil)
		if c != nil || err == nil || !strings.Contains(err.Error(), "already been answered") {
			t.Errorf("Accept after Refuse: (%v, %v), want an error saying the handshake was answered", c, err)
		}
		return nil, nil
	})
	resp, body, _, _ := rawRequest(t, s.addr(), handshakeRequest("GET / HTTP/1.1"))
	checkRefused(t, resp, body, http.StatusNotFound, "not here", [2]string{})
	if r := s.result(t); r.err != nil {
		t.Fatal(r.err)
	}
}
