// Package hub fans messages out to WebSocket connections by topic: chat
// rooms, live notifications, price feeds.
//
// A server subscribes each connection it accepts to the topics it wants,
// publishes to a topic from anywhere, and makes the connection leave the
// hub when it ends:
//
//	h := hub.New(nil)
//	http.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
//		c, err := starling.Accept(w, r, nil)
//		if err != nil {
//			return
//		}
//		defer c.CloseNow()
//		defer h.Leave(c)
//		if err := h.Subscribe(c, "prices"); err != nil {
//			return
//		}
//		for { // read, so that pings are answered and the close is seen
//			if _, _, err := c.Read(r.Context()); err != nil {
//				return
//			}
//		}
//	})
//	...
//	err := h.Publish(ctx, "prices", starling.MessageText, quote)
//
// # Delivery
//
// A message is encoded (and compressed, where a connection negotiated
// permessage-deflate) once for all its subscribers, as a
// starling.PreparedMessage. Publish never waits for a connection: each has
// a queue of its own, drained by a goroutine that runs only while the queue
// is not empty, so an idle subscriber costs no goroutine. Every subscriber
// of a topic receives its messages in one order, the order in which they
// were published. Through a Broker, that is the order in which the broker
// delivers them to this hub; NATS keeps each publisher's order, but may
// interleave two servers' publications differently on different servers.
// When a connection falls so far behind that its queue is full,
// Options.Overflow decides: close it with 1008 (policy violation), the
// default, since it has missed a message; or drop the message for it alone,
// for feeds where a fresher message soon follows.
//
// # Across servers
//
// With Options.Broker, a hub publishes through a message broker and
// delivers what the broker delivers to it, so that a message published on
// one server reaches the subscribers of every server. The hub subscribes
// the broker to a topic while it has a subscriber to it. The natsbroker
// module (github.com/starling-ws/starling/hub/natsbroker) is a Broker on
// NATS.
package hub
