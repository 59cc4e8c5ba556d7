package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/starling-ws/starling"
)

// DefaultQueueSize is how many messages may wait for one connection when
// Options.QueueSize is 0.
const DefaultQueueSize = 256

// Overflow says what a hub does with a connection whose queue is full.
type Overflow int

const (
	// CloseSlow removes the connection from the hub and closes it with
	// StatusPolicyViolation (1008): it has missed a message, and a client
	// that reconnects can catch up. The messages still queued for it are
	// dropped.
	CloseSlow Overflow = iota
	// DropNewest drops the message for that connection alone, which stays
	// subscribed: for feeds where a fresher message soon follows.
	DropNewest
)

// Options configures a Hub. The zero value of each field is a sensible
// default.
type Options struct {
	// QueueSize is how many messages may wait for one connection; 0
	// means DefaultQueueSize.
	QueueSize int
	// Overflow says what happens to a connection whose queue is full.
	// Values other than DropNewest mean CloseSlow, the default.
	Overflow Overflow
	// Broker, if set, carries every publication to the hubs of all the
	// servers that share it, this one included: Publish hands messages
	// to it, and the hub delivers to its connections what it delivers.
	Broker Broker
}

// ErrClosed is returned by Publish and Subscribe on a closed hub.
var ErrClosed = errors.New("hub: closed")

// Hub delivers messages published on a topic to the connections subscribed
// to it. It is safe for concurrent use. Its methods never close a
// connection, except one that cannot keep up (see Overflow) or whose
// write failed.
type Hub struct {
	queue    int
	overflow Overflow
	broker   Broker

	// joinMu serializes changes of membership, which may wait for the
	// broker; publishers never take it.
	joinMu sync.Mutex
	// mu guards topics, conns, left, closed, and the members of every
	// topic and subscriber.
	mu     sync.RWMutex
	topics map[string]*topic
	conns  map[*starling.Conn]*subscriber
	// left holds the subscribers that left the hub while writing, by
	// connection, for the connection's next subscriber to wait for.
	left   map[*starling.Conn]*subscriber
	closed bool

	stats stats
}

// topic is a topic with at least one subscriber.
type topic struct {
	subs map[*subscriber]struct{}
	// order is held while a message is queued for every subscriber, so
	// that they all see the topic's messages in one order.
	order  sync.Mutex
	cancel func() // ends the broker's subscription, or nil
}

// New returns a hub with no subscribers. opts may be nil.
func New(opts *Options) *Hub {
	if opts == nil {
		opts = &Options{}
	}
	h := &Hub{
		queue:    opts.QueueSize,
		overflow: opts.Overflow,
		broker:   opts.Broker,
		topics:   make(map[string]*topic),
		conns:    make(map[*starling.Conn]*subscriber),
		left:     make(map[*starling.Conn]*subscriber),
	}
	if h.queue <= 0 {
		h.queue = DefaultQueueSize
	}
	if h.overflow != DropNewest {
		h.overflow = CloseSlow // an unknown value must not drop uncounted
	}
	return h
}

// Publish sends a message of type typ to every connection subscribed to
// topic, and returns without waiting for any of them. The hub keeps data:
// the caller must not change it afterwards. A text message must be valid
// UTF-8 (starling.ErrInvalidUTF8 otherwise). With a Broker, the message
// goes through the broker, and ctx bounds the broker's publish.
func (h *Hub) Publish(ctx context.Context, topic string, typ starling.MessageType, data []byte) error {
	pm, err := starling.NewPreparedMessage(typ, data) // checks typ and text first
	if err != nil {
		return err
	}
	h.mu.RLock()
	closed, t := h.closed, h.topics[topic]
	h.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case h.broker != nil:
		return h.broker.Publish(ctx, topic, Message{Type: typ, Data: data})
	case t != nil:
		h.fanout(t, pm)
	}
	return nil
}

// deliver fans out a message the broker delivered for t. A message that
// starling.NewPreparedMessage refuses is dropped, and counted.
func (h *Hub) deliver(t *topic, m Message) {
	pm, err := starling.NewPreparedMessage(m.Type, m.Data)
	if err != nil {
		h.stats.refused.Add(1)
		return
	}
	h.fanout(t, pm)
}

// fanout queues pm for every subscriber of t, and deals with those whose
// queue is full.
func (h *Hub) fanout(t *topic, pm *starling.PreparedMessage) {
	var slow []*subscriber
	var queued, full int64
	h.mu.RLock()
	t.order.Lock()
	for s := range t.subs {
		switch ok, isFull := s.push(pm); {
		case ok:
			queued++
		case isFull:
			full++
			if h.overflow == CloseSlow && s.stop() {
				slow = append(slow, s)
			}
		}
	}
	t.order.Unlock()
	h.mu.RUnlock()
	h.stats.messages.Add(1)
	h.stats.queued.Add(queued)
	if h.overflow == DropNewest {
		h.stats.dropped.Add(full)
	}
	h.stats.closedSlow.Add(int64(len(slow)))
	for _, s := range slow {
		go func() {
			h.forget(s)
			_ = s.c.Close(starling.StatusPolicyViolation, "too slow: missed messages")
		}()
	}
}

// Subscribe subscribes c to each of topics, in order, until Unsubscribe or
// Leave. Subscribing again to a topic changes nothing. With a Broker, a
// topic that is new to this hub is subscribed to at the broker first,
// which may fail; the topics before the one that failed stay subscribed.
func (h *Hub) Subscribe(c *starling.Conn, topics ...string) error {
	if c == nil {
		return errors.New("hub: nil connection")
	}
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	for _, name := range topics {
		if err := h.subscribe(c, name); err != nil {
			return err
		}
	}
	return nil
}

// subscribe subscribes c to the topic name. joinMu must be held: members
// change one at a time, so what is read under h.mu's read lock stays true
// until its write lock is taken.
func (h *Hub) subscribe(c *starling.Conn, name string) error {
	if name == "" {
		return errors.New("hub: empty topic name")
	}
	h.mu.RLock()
	closed, t := h.closed, h.topics[name]
	h.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if t == nil {
		t = &topic{subs: make(map[*subscriber]struct{})}
		if h.broker != nil {
			cancel, err := h.broker.Subscribe(name, func(m Message) { h.deliver(t, m) })
			if err != nil {
				return fmt.Errorf("hub: subscribe to %q at the broker: %w", name, err)
			}
			t.cancel = cancel
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.conns[c]
	if s == nil {
		s = &subscriber{c: c, h: h, topics: make(map[string]*topic), prev: h.left[c]}
		delete(h.left, c)
		h.conns[c] = s
	}
	h.topics[name] = t
	t.subs[s] = struct{}{}
	s.topics[name] = t
	return nil
}

// Unsubscribe ends c's subscriptions to topics. Messages already queued
// for c are still written.
func (h *Hub) Unsubscribe(c *starling.Conn, topics ...string) {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	h.mu.Lock()
	var cancels []func()
	if s := h.conns[c]; s != nil {
		for _, name := range topics {
			cancels = h.unsubscribeLocked(s, name, cancels)
		}
	}
	h.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// unsubscribeLocked takes s out of the topic name, and forgets the topic
// if that was its last subscriber, appending to cancels the function that
// ends its broker subscription. h.mu must be held.
func (h *Hub) unsubscribeLocked(s *subscriber, name string, cancels []func()) []func() {
	t := s.topics[name]
	if t == nil {
		return cancels
	}
	delete(s.topics, name)
	delete(t.subs, s)
	if len(t.subs) == 0 {
		delete(h.topics, name)
		if t.cancel != nil {
			cancels = append(cancels, t.cancel)
		}
	}
	return cancels
}

// Leave ends all of c's subscriptions and drops the messages still queued
// for it. Call it when the connection ends: defer it after a successful
// Accept. A message the hub is writing to c as Leave is called may still
// arrive after it returns, but if c subscribes again, before any of those
// that follow.
func (h *Hub) Leave(c *starling.Conn) {
	h.mu.RLock()
	s := h.conns[c]
	h.mu.RUnlock()
	if s != nil {
		s.stop()
		h.forget(s)
	}
}

// forget removes s from the hub, if it is still there.
func (h *Hub) forget(s *subscriber) {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	h.mu.Lock()
	var cancels []func()
	if h.conns[s.c] == s {
		for name := range s.topics {
			cancels = h.unsubscribeLocked(s, name, cancels)
		}
		delete(h.conns, s.c)
		if w := s.lastWriter(); w != nil {
			h.left[s.c] = w
		}
	}
	h.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// doneWriting forgets s as the last writer of its connection, if it is:
// s left the hub, and has written its last message.
func (h *Hub) doneWriting(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.left[s.c] == s {
		delete(h.left, s.c)
	}
}

// Subscribers returns the number of this hub's connections subscribed to
// topic (with a Broker, other servers' are not counted).
func (h *Hub) Subscribers(topic string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if t := h.topics[topic]; t != nil {
		return len(t.subs)
	}
	return 0
}

// Close ends every subscription, including the broker's, and drops the
// queued messages. It does not close the connections. Publish and
// Subscribe then fail with ErrClosed.
func (h *Hub) Close() error {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	h.mu.Lock()
	h.closed = true
	var cancels []func()
	for _, s := range h.conns {
		s.stop()
		for name := range s.topics {
			cancels = h.unsubscribeLocked(s, name, cancels)
		}
	}
	clear(h.conns)
	h.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
	return nil
}
