package hub

import (
	"context"

	"github.com/starling-ws/starling"
)

// Message is a published message as a Broker carries it.
type Message struct {
	Type starling.MessageType
	Data []byte
}

// Broker carries publications between the hubs of several servers, so that
// a message published on one reaches the subscribers of all of them. A
// Broker must be safe for concurrent use.
type Broker interface {
	// Publish sends m on topic to every hub subscribed to topic at this
	// broker, the publishing one included.
	Publish(ctx context.Context, topic string, m Message) error
	// Subscribe calls deliver with each message published on topic, one
	// at a time and in the order the broker delivers them, until cancel
	// is called. It returns once the broker has the subscription: a
	// message published after that reaches deliver. deliver does not
	// block; a message it is given must be valid for
	// starling.NewPreparedMessage, or the hub drops it.
	Subscribe(topic string, deliver func(Message)) (cancel func(), err error)
}
