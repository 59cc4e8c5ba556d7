package interop

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
	"golang.org/x/net/nettest"
)

// TestNetConnConformance runs golang.org/x/net/nettest's conformance
// suite for net.Conn implementations on Starling's NetConn: the two ends
// of a WebSocket over loopback TCP, with either end as the one under test.
// It checks deadlines that pass, move into the past, or are moved while
// Reads and Writes wait, and that the stream stays whole after every
// timeout; concurrent calls; and Close ending what waits.
func TestNetConnConformance(t *testing.T) {
	for _, clientFirst := range []bool{true, false} {
		name := "server"
		if clientFirst {
			name = "client"
		}
		t.Run(name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				client, server, stop, err := netConnPair()
				if clientFirst {
					return client, server, stop, err
				}
				return server, client, stop, err
			})
		})
	}
}

// netConnPair returns the NetConns of the client and the server end of a
// WebSocket over loopback TCP.
func netConnPair() (client, server net.Conn, stop func(), err error) {
	accepted := make(chan *starling.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}))
	cc, _, err := starling.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	sc := <-accepted
	stop = func() {
		cc.CloseNow()
		sc.CloseNow()
		srv.Close()
	}
	return starling.NetConn(context.Background(), cc, starling.MessageBinary),
		starling.NetConn(context.Background(), sc, starling.MessageBinary), stop, nil
}
