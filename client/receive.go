package client

// Delegate receives a Client's events, in the manner of Starscream's
// WebSocketDelegate.
type Delegate interface {
	DidReceive(ev Event, c *Client)
}

// receiver is the one way a Client delivers its events.
type receiver struct {
	delegate Delegate
	fn       func(Event)
	ch       chan Event
}

func (r *receiver) set() bool { return r.delegate != nil || r.fn != nil || r.ch != nil }

// SetDelegate makes the client deliver its events to d. A client has
// exactly one receiver: SetDelegate panics if OnEvent or Events was called,
// or if d is nil.
func (c *Client) SetDelegate(d Delegate) {
	if d == nil {
		panic("client: nil Delegate")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mustBeFirstReceiver()
	c.recv.delegate = d
}

// OnEvent makes the client deliver its events to f. A client has exactly
// one receiver: OnEvent panics if SetDelegate or Events was called, or if f
// is nil.
func (c *Client) OnEvent(f func(Event)) {
	if f == nil {
		panic("client: nil OnEvent function")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mustBeFirstReceiver()
	c.recv.fn = f
}

// Events returns a channel on which the client sends its events, for
// select loops. The send blocks until the event is received, so a slow
// receiver slows reading rather than losing events; the channel is never
// closed, because the client may connect again. Every call returns the
// same channel. A client has exactly one receiver: Events panics if
// SetDelegate or OnEvent was called.
func (c *Client) Events() <-chan Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recv.ch == nil {
		c.mustBeFirstReceiver()
		c.recv.ch = make(chan Event)
	}
	return c.recv.ch
}

func (c *Client) mustBeFirstReceiver() {
	if c.recv.set() {
		panic("client: a client has exactly one receiver: SetDelegate, OnEvent or Events")
	}
}

// hookCall runs a function on the delivery goroutine, in order with the
// events, and reports when it has returned.
type hookCall struct {
	fn   func()
	done chan struct{}
}

func (hookCall) isEvent() {}

// dispatch delivers the events of one run, one at a time and in order,
// after the previous run's deliveries are over.
func (c *Client) dispatch(prev <-chan struct{}, evq <-chan Event, done chan<- struct{}) {
	defer close(done)
	if prev != nil {
		<-prev
	}
	c.mu.Lock()
	recv := c.recv
	c.mu.Unlock()
	for ev := range evq {
		c.deliver(recv, ev)
	}
}

func (c *Client) deliver(recv receiver, ev Event) {
	var call func()
	switch {
	case isHook(ev):
		h := ev.(hookCall)
		call = func() { defer close(h.done); h.fn() }
	case recv.ch != nil:
		recv.ch <- ev
		return
	case recv.delegate != nil:
		call = func() { recv.delegate.DidReceive(ev, c) }
	default:
		call = func() { recv.fn(ev) }
	}
	if c.opts.Executor == nil {
		call()
		return
	}
	finished := make(chan struct{})
	c.opts.Executor(func() { defer close(finished); call() })
	<-finished
}

func isHook(ev Event) bool {
	_, ok := ev.(hookCall)
	return ok
}
