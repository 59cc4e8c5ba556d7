package hub

import (
	"context"
	"errors"
	"sync"

	"github.com/starling-ws/starling"
)

// subscriber is one connection's membership of a hub: its topics, and the
// queue of messages on their way to it. The queue is drained by a
// goroutine that runs only while it is not empty.
type subscriber struct {
	c      *starling.Conn
	h      *Hub
	topics map[string]*topic // guarded by h.mu

	mu      sync.Mutex
	ring    []*starling.PreparedMessage // grows up to h.queue
	head, n int
	writing bool // a goroutine drains the queue
	stopped bool // left the hub: queue nothing more

	// turn is held by the goroutine that drains the queue. prev is the
	// subscriber the connection had before it left the hub and
	// subscribed again, if that one was still writing then: it may hold
	// a message it took off its queue, which must reach the connection
	// before this subscriber's, or the topics' order would be broken.
	// prev is guarded by mu; the queue's goroutine clears it.
	turn sync.Mutex
	prev *subscriber
}

// idleRing is the largest queue a subscriber keeps while nothing waits
// for it; a larger one, grown by a burst, is left to the collector.
const idleRing = 8

// push queues pm, starting the queue's goroutine if it is not running, and
// reports whether it did, or whether the queue was full. A stopped
// subscriber is neither: it drops everything.
func (s *subscriber) push(pm *starling.PreparedMessage) (queued, full bool) {
	s.mu.Lock()
	switch {
	case s.stopped:
		s.mu.Unlock()
		return false, false
	case s.n == s.h.queue:
		s.mu.Unlock()
		return false, true
	case s.n == len(s.ring):
		s.grow()
	}
	s.ring[(s.head+s.n)%len(s.ring)] = pm
	s.n++
	start := !s.writing
	s.writing = true
	s.mu.Unlock()
	if start {
		go s.drain()
	}
	return true, false
}

// grow doubles the queue, up to h.queue. s.mu must be held.
func (s *subscriber) grow() {
	ring := make([]*starling.PreparedMessage, min(max(2*len(s.ring), 4), s.h.queue))
	for i := range s.n {
		ring[i] = s.ring[(s.head+i)%len(s.ring)]
	}
	s.ring, s.head = ring, 0
}

// pop takes the next message off the queue, or returns nil and ends the
// queue's goroutine if there is none.
func (s *subscriber) pop() *starling.PreparedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 || s.stopped {
		s.writing = false
		if len(s.ring) > idleRing || s.stopped {
			s.ring, s.head, s.n = nil, 0, 0
		}
		return nil
	}
	pm := s.ring[s.head]
	s.ring[s.head] = nil
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	return pm
}

// drain writes the queued messages until the queue is empty. A connection
// whose write fails leaves the hub: it has failed, or it is closing.
func (s *subscriber) drain() {
	s.turn.Lock()
	defer s.turn.Unlock()
	s.awaitPrev()
	for pm := s.pop(); pm != nil; pm = s.pop() {
		// The Conn's write timeout bounds a write to a peer that stopped
		// reading.
		if err := s.c.WritePrepared(context.Background(), pm); err != nil {
			s.stop()
			// ErrClosed may mean a close handshake is under way (a
			// server shutting down, say): cutting the connection now
			// would cut off its close frame.
			if !errors.Is(err, starling.ErrClosed) {
				_ = s.c.CloseNow()
			}
			s.h.forget(s)
			break
		}
	}
	if s.isStopped() {
		s.h.doneWriting(s)
	}
}

// awaitPrev waits until the connection's previous subscriber, if it still
// writes, has written its last message. s.turn must be held.
func (s *subscriber) awaitPrev() {
	s.mu.Lock()
	p := s.prev
	s.prev = nil
	s.mu.Unlock()
	if p != nil {
		// Taking the lock is the wait: p holds it while it writes.
		p.turn.Lock()
		p.turn.Unlock() //lint:ignore SA2001 the wait is the point
	}
}

// isStopped reports whether s has left the hub.
func (s *subscriber) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// isWriting reports whether a goroutine is draining s's queue.
func (s *subscriber) isWriting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writing
}

// lastWriter returns the subscriber whose writes the connection's next
// subscriber must wait for, once s has left the hub: s if its queue's
// goroutine runs, or else the one s was to wait for if that one still
// writes, or nil.
func (s *subscriber) lastWriter() *subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.writing:
		return s
	case s.prev != nil && s.prev.isWriting():
		return s.prev
	}
	return nil
}

// stop makes s drop what it is given from now on, and reports whether it
// was the call that stopped it.
func (s *subscriber) stop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.stopped = true
	return true
}
