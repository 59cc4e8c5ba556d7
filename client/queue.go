package client

import (
	"fmt"
	"unicode/utf8"

	"github.com/starling-ws/starling"
)

// maxControlPayload is the longest ping or pong payload (RFC 6455 section
// 5.5).
const maxControlPayload = 125

type frameKind uint8

const (
	textFrame frameKind = iota
	binaryFrame
	pingFrame
	pongFrame
	closeFrame
)

// request is one queued write.
type request struct {
	kind   frameKind
	data   []byte
	done   func(error)
	code   starling.StatusCode // for closeFrame
	reason string              // for closeFrame
}

// queue holds the writes not yet written, in order. It is guarded by the
// Client's mu.
type queue struct {
	items     []*request
	bytes     int // payload bytes queued or being written
	max       int
	accepting bool
	wake      chan struct{} // signalled when an item is pushed

	// While OnReconnect runs, front is set and its writes go to firsts,
	// which then goes ahead of items.
	front  bool
	firsts []*request
}

func (q *queue) init(max int) {
	if max <= 0 {
		max = DefaultMaxQueuedBytes
	}
	q.max = max
	q.wake = make(chan struct{}, 1)
}

func (q *queue) push(rq *request) {
	if q.front && rq.kind != closeFrame {
		q.firsts = append(q.firsts, rq)
	} else {
		q.items = append(q.items, rq)
	}
	q.bytes += len(rq.data)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop removes the first request; its bytes stay counted until finished.
func (q *queue) pop() *request {
	if len(q.items) == 0 {
		return nil
	}
	rq := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return rq
}

// takeAll empties the queue and returns what it held.
func (q *queue) takeAll() []*request {
	items := append(q.firsts, q.items...)
	q.items, q.firsts = nil, nil
	for _, rq := range items {
		q.bytes -= len(rq.data)
	}
	return items
}

// failAll calls the done function of each request with err.
func failAll(items []*request, err error) {
	for _, rq := range items {
		if rq.done != nil {
			rq.done(err)
		}
	}
}

// WriteString queues s as a text message and returns at once. Unless it
// returns an error, done (which may be nil) is called exactly once, from a
// goroutine of the client: with nil after the frame is written to the
// socket, or with an error if the connection ended first. The writer waits
// for done to return, so it should be quick. WriteString returns
// ErrQueueFull if the queue is over Options.MaxQueuedBytes, ErrNotConnected
// if the client is not connecting or connected, and starling.ErrInvalidUTF8
// if s is not UTF-8.
func (c *Client) WriteString(s string, done func(error)) error {
	if !utf8.ValidString(s) {
		return starling.ErrInvalidUTF8
	}
	return c.enqueue(&request{kind: textFrame, data: []byte(s), done: done})
}

// WriteData queues a copy of b as a binary message, like WriteString.
func (c *Client) WriteData(b []byte, done func(error)) error {
	return c.enqueue(&request{kind: binaryFrame, data: clone(b), done: done})
}

// WritePing queues a ping with payload b (at most 125 bytes), like
// WriteString. The heartbeat sends its own pings; this is for the
// application's.
func (c *Client) WritePing(b []byte, done func(error)) error {
	if len(b) > maxControlPayload {
		return starling.ErrControlTooLong
	}
	return c.enqueue(&request{kind: pingFrame, data: clone(b), done: done})
}

// WritePong queues an unsolicited pong with payload b (at most 125 bytes),
// like WriteString. Pings are answered without it.
func (c *Client) WritePong(b []byte, done func(error)) error {
	if len(b) > maxControlPayload {
		return starling.ErrControlTooLong
	}
	return c.enqueue(&request{kind: pongFrame, data: clone(b), done: done})
}

// Buffered returns the payload bytes of the writes queued and not yet
// written to the socket, as the browser's WebSocket.bufferedAmount does.
// A program that streams can wait for it to fall before it writes more,
// rather than meet ErrQueueFull.
func (c *Client) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.bytes
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func (c *Client) enqueue(rq *request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := &c.q
	switch {
	case !q.accepting:
		return ErrNotConnected
	case q.bytes > 0 && q.bytes+len(rq.data) > q.max:
		return fmt.Errorf("%w: %d bytes queued, bound %d", ErrQueueFull, q.bytes, q.max)
	}
	q.push(rq)
	return nil
}
