package starling_test

import (
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
	"github.com/starling-ws/starling/internal/testpki"
)

// TestPinOnlyExpiredIsATLSFailure checks how the client package reports a
// pinned certificate out of its validity period: as the failed TLS
// handshake it is (1015, not retried), like the same certificate under
// the standard verification, not as a network failure (1006, retried).
func TestPinOnlyExpiredIsATLSFailure(t *testing.T) {
	tmpl := testpki.Leaf("127.0.0.1")
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	expired := testpki.Issue(t, tmpl, nil)
	addr := startWSS(t, testpki.Chain(expired))
	cl := client.New("wss://"+addr+"/", &client.Options{
		Pins:      []string{starling.PinOf(expired.Cert)},
		PinOnly:   true,
		Reconnect: &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxAttempts: 1},
	})
	events := cl.Events()
	cl.Connect()
	defer cl.ForceDisconnect()
	timeout := time.After(30 * time.Second) // a safety net against a hang
	for {
		select {
		case ev := <-events:
			d, ok := ev.(client.Disconnected)
			if !ok {
				continue
			}
			if d.Code != starling.StatusTLSHandshake {
				t.Fatalf("Disconnected %+v, want code %d (TLS handshake)", d, starling.StatusTLSHandshake)
			}
			return
		case <-timeout:
			t.Fatal("no Disconnected event")
		}
	}
}
