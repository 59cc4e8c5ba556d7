package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// TestForceDisconnectAfterDisconnectAtDial has Disconnect come just as
// the dial succeeds, so the client closes the new connection without
// opening it, over a network that then stops carrying traffic: a
// ForceDisconnect during that close handshake must drop the connection at
// once, as it does any other, not leave it to the handshake's timeouts.
func TestForceDisconnectAfterDisconnectAtDial(t *testing.T) {
	srvURL := newServer(t, nil, echo)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.addr(), nil)
	rec := record(t, cl)
	forced := make(chan time.Time, 1)
	client.SetTestHookDialed(func() {
		rl.blackholeAll()
		cl.Disconnect(starling.StatusNormalClosure, "")
		go func() {
			// Long enough for the client to be in its close handshake,
			// far shorter than the handshake's timeouts.
			time.Sleep(100 * time.Millisecond)
			cl.ForceDisconnect()
			forced <- time.Now()
		}()
	})
	t.Cleanup(func() { client.SetTestHookDialed(nil) })
	cl.Connect()
	rec.expect(t, client.Cancelled{})
	if late := time.Since(<-forced); late > 2*time.Second {
		t.Fatalf("Cancelled came %v after ForceDisconnect", late.Round(time.Millisecond))
	}
}
