package client_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// Disconnect or ForceDisconnect that comes as the dial succeeds ends the
// attempt with Cancelled alone, and still ends the new connection as it
// asks: Disconnect with a close handshake carrying its code and reason
// (RFC 6455 section 7.1.2), ForceDisconnect at once. What the server sends
// meanwhile, such as a ping, is not delivered: Connected never went out.
func TestStoppedAtDial(t *testing.T) {
	for _, tt := range []struct {
		name string
		stop func(cl *client.Client)
		code starling.StatusCode // what the server sees
	}{
		{"Disconnect", func(cl *client.Client) { cl.Disconnect(4001, "bye") }, 4001},
		{"ForceDisconnect", (*client.Client).ForceDisconnect, starling.StatusAbnormalClosure},
		// ForceDisconnect overrides the close handshake Disconnect asked for.
		{"Disconnect then ForceDisconnect", func(cl *client.Client) {
			cl.Disconnect(4001, "bye")
			cl.ForceDisconnect()
		}, starling.StatusAbnormalClosure},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ended := make(chan error, 1)
			url := newServer(t, nil, func(c *starling.Conn, _ *http.Request) {
				c.WritePing(bg, []byte("hello"))
				_, _, err := c.Read(bg)
				ended <- err
			})
			cl := client.New(url, nil)
			rec := record(t, cl)
			client.SetTestHookDialed(func() { tt.stop(cl) })
			t.Cleanup(func() { client.SetTestHookDialed(nil) })
			cl.Connect()
			rec.expect(t, client.Cancelled{})
			err := recv(t, ended)
			if got := starling.CloseStatus(err); got != tt.code {
				t.Errorf("server saw the connection end with %v (%v), want %v", got, err, tt.code)
			}
			rec.quiet(t, 100*time.Millisecond)
		})
	}
}
