package client_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// chat is a Delegate, as a view controller is a WebSocketDelegate in
// Starscream.
type chat struct {
	done chan struct{}
}

func (h *chat) DidReceive(ev client.Event, c *client.Client) {
	switch ev := ev.(type) {
	case client.Connected:
		fmt.Println("connected, subprotocol", ev.Subprotocol)
		c.WriteString("hello", nil)
	case client.Disconnected:
		fmt.Printf("disconnected: %q, code %d\n", ev.Reason, ev.Code)
		close(h.done)
	case client.Text:
		fmt.Println("received text:", ev.Data)
		c.Disconnect(starling.StatusNormalClosure, "bye")
	case client.Binary:
		fmt.Println("received data:", len(ev.Data), "bytes")
	case client.Ping:
		fmt.Println("ping")
	case client.Pong:
		fmt.Println("pong")
	case client.ViabilityChanged:
		fmt.Println("viable:", ev.Viable)
	case client.ReconnectSuggested:
		fmt.Println("reconnect suggested:", ev.Suggested)
	case client.Cancelled:
		fmt.Println("cancelled")
		close(h.done)
	case client.Error:
		fmt.Println("error:", ev.Err)
	case client.Reconnecting:
		fmt.Println("reconnecting, attempt", ev.Attempt, "in", ev.Delay)
	}
}

func Example() {
	url, stop := echoServer() // e.g. "wss://example.com/chat"
	defer stop()

	c := client.New(url, &client.Options{Subprotocols: []string{"chat"}})
	h := &chat{done: make(chan struct{})}
	c.SetDelegate(h)
	c.Connect()
	<-h.done

	// Output:
	// connected, subprotocol chat
	// received text: hello
	// disconnected: "", code 1000
}

// Events suits a select loop.
func ExampleClient_Events() {
	url, stop := echoServer()
	defer stop()

	c := client.New(url, nil)
	events := c.Events()
	c.Connect()
	for ev := range events {
		switch ev := ev.(type) {
		case client.Connected:
			c.WriteString("hi", nil)
		case client.Text:
			fmt.Println(ev.Data)
			c.Disconnect(starling.StatusNormalClosure, "")
		case client.Disconnected, client.Cancelled:
			return
		}
	}
	// Output: hi
}

// echoServer starts a server that echoes every message, for the examples,
// and returns its URL and a function that stops it.
func echoServer() (string, func()) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c, r)
	}))
	return "ws" + strings.TrimPrefix(s.URL, "http"), s.Close
}
