// Package natsbroker is a hub.Broker on NATS: the hubs of several servers
// that share a NATS server or cluster deliver each other's publications, so
// that a message published on one server reaches the subscribers of all.
//
// It is a module of its own, so that the starling module depends on the
// standard library alone.
//
//	nc, err := nats.Connect("nats://nats.internal:4222")
//	...
//	h := hub.New(&hub.Options{Broker: natsbroker.New(nc, nil)})
//
// A topic is published on the NATS subject Prefix + "." + topic, with the
// message's type in the header TypeHeader. Any NATS client may publish to
// a hub's subscribers on that subject; a message without the header is
// text if it is valid UTF-8 and binary otherwise.
package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// DefaultPrefix starts every topic's subject when Options.Prefix is empty.
const DefaultPrefix = "starling"

// TypeHeader is the NATS header that carries a message's type, "text" or
// "binary".
const TypeHeader = "Starling-Type"

// Options configures a Broker.
type Options struct {
	// Prefix starts the subject of every topic, so that the hubs of
	// several applications can share one NATS server; DefaultPrefix if
	// empty. It must be a subject without wildcards, as a topic must
	// (see ErrBadTopic): Subscribe and Publish refuse any other.
	Prefix string
}

// Broker is a hub.Broker on a NATS connection. Closing the connection is
// the caller's business.
type Broker struct {
	nc     *nats.Conn
	prefix string
}

var _ hub.Broker = (*Broker)(nil)

// New returns a Broker that publishes and subscribes through nc. opts may
// be nil. nc must not have been made with nats.NoEcho: the hub delivers
// its own publications to its subscribers when they come back from NATS,
// so without echo a server's subscribers would miss what it published.
func New(nc *nats.Conn, opts *Options) *Broker {
	b := &Broker{nc: nc, prefix: DefaultPrefix}
	if opts != nil && opts.Prefix != "" {
		b.prefix = opts.Prefix
	}
	return b
}

// ErrBadTopic is returned for a topic that cannot be part of a NATS
// subject: an empty token ("a..b"), white space, or a wildcard (* or >),
// which would subscribe to other topics too; or one whose subject, prefix
// included, is longer than 4032 bytes.
var ErrBadTopic = errors.New("natsbroker: topic is not a NATS subject")

// maxSubject is the length in bytes of the longest subject a Broker
// publishes or subscribes to. A NATS server closes a connection that sends
// a protocol line longer than its max_control_line, 4096 bytes by default,
// and nats.go does not reconnect after that: one long topic would cut the
// hub off from every topic. The line holds a few numbers besides the
// subject.
const maxSubject = 4096 - 64

// subject returns the NATS subject of topic.
func (b *Broker) subject(topic string) (string, error) {
	subject := b.prefix + "." + topic
	if len(subject) > maxSubject {
		return "", fmt.Errorf("%w: subject of %d bytes, more than %d", ErrBadTopic, len(subject), maxSubject)
	}
	if !literal(b.prefix) {
		// Checked like a topic: a wildcard prefix would subscribe to
		// other applications' topics, and one the NATS server refuses
		// may make it close the connection, shared with the program.
		return "", fmt.Errorf("natsbroker: prefix %q is not a NATS subject without wildcards", b.prefix)
	}
	if !literal(topic) {
		return "", fmt.Errorf("%w: %q", ErrBadTopic, topic)
	}
	return subject, nil
}

// literal reports whether s is a NATS subject without wildcards: tokens
// separated by dots, none empty, none holding white space, * or >.
func literal(s string) bool {
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// Publish publishes m on topic's subject. NATS buffers the message and
// sends it in the background; ctx is checked before.
func (b *Broker) Publish(ctx context.Context, topic string, m hub.Message) error {
	subject, err := b.subject(topic)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	typ := "text"
	if m.Type == starling.MessageBinary {
		typ = "binary"
	}
	return b.nc.PublishMsg(&nats.Msg{Subject: subject, Data: m.Data, Header: nats.Header{TypeHeader: {typ}}})
}

// Subscribe subscribes to topic's subject, and returns once the NATS
// server has the subscription (a round trip). In a NATS cluster, the other
// servers learn of the subscription a moment later, and no client can tell
// when: a message published through another server just after Subscribe
// returns may not reach it. hub.Broker's promise holds for the publishers
// on the same NATS server.
func (b *Broker) Subscribe(topic string, deliver func(hub.Message)) (cancel func(), err error) {
	subject, err := b.subject(topic)
	if err != nil {
		return nil, err
	}
	sub, err := b.nc.Subscribe(subject, func(msg *nats.Msg) { deliver(message(msg)) })
	if err != nil {
		return nil, err
	}
	if err := b.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// message decodes a NATS message, typed by its header or, without one, by
// its content.
func message(msg *nats.Msg) hub.Message {
	m := hub.Message{Type: starling.MessageBinary, Data: msg.Data}
	switch msg.Header.Get(TypeHeader) {
	case "text":
		m.Type = starling.MessageText
	case "":
		if utf8.Valid(msg.Data) {
			m.Type = starling.MessageText
		}
	}
	return m
}
