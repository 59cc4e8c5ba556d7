package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// A network that stops carrying traffic, without closing, during the close
// handshake: Disconnect still ends the connection, with Error and
// Disconnected{1006}, and does not reconnect.
func TestDisconnectBlackholed(t *testing.T) {
	srvURL := newServer(t, nil, echo)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	cl := client.New("ws://"+rl.addr(), &client.Options{
		HeartbeatInterval: 50 * time.Millisecond,
		HeartbeatTimeout:  time.Second,
		Reconnect:         &client.ReconnectPolicy{MinDelay: time.Millisecond},
	})
	rec := withoutPongs(t, record(t, cl))
	cl.Connect()
	rec.expect(t, client.Connected{})
	rl.blackholeAll()
	cl.Disconnect(starling.StatusNormalClosure, "")
	rec.expect(t, client.Error{}, client.Disconnected{Code: starling.StatusAbnormalClosure})
	rec.quiet(t, 100*time.Millisecond)
}
