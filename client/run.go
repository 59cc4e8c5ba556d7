package client

import (
	"context"
	"time"
)

// run is one Connect's life: its connections and the reconnects between
// them, until its last event.
type run struct {
	evq    chan Event // events for the delivery goroutine
	ctx    context.Context
	cancel context.CancelFunc // ends a dial or a reconnect delay

	// Guarded by Client.mu.
	stopped  bool     // Disconnect or ForceDisconnect was called
	forced   bool     // ForceDisconnect was called
	closeReq *request // Disconnect's close frame, if called before open
	cn       *connection
}

func (r *run) emit(ev Event) { r.evq <- ev }

// outcome is how one connection attempt ended.
type outcome struct {
	tail   []Event // the events that end the attempt, the last one Disconnected or Cancelled
	retry  bool    // the reconnect policy applies
	opened bool    // the opening handshake succeeded
}

// runLoop makes connection attempts until one ends in a way the reconnect
// policy does not cover, then ends the run.
func (c *Client) runLoop(r *run) {
	defer close(r.evq)
	attempts := 0
	for {
		out := c.attempt(r, attempts > 0)
		if out.opened {
			attempts = 0
		}
		retry := c.endAttempt(r, out, attempts+1)
		for _, ev := range out.tail {
			r.emit(ev)
		}
		if !retry {
			return
		}
		attempts++
		d := c.opts.Reconnect.delay(attempts)
		r.emit(Reconnecting{Attempt: attempts, Delay: d})
		if !c.sleep(r, d) {
			c.finish(r)
			r.emit(Cancelled{})
			return
		}
	}
}

// endAttempt decides whether to reconnect and moves the client to its
// next state before the attempt's last events go out, so that a receiver
// that calls Connect or a write on seeing them finds the client ready.
// Writes that will not be sent fail here, before Disconnected is seen.
func (c *Client) endAttempt(r *run, out outcome, next int) bool {
	p := c.opts.Reconnect
	c.mu.Lock()
	r.cn = nil
	retry := out.retry && p != nil && !r.stopped && (p.MaxAttempts == 0 || next <= p.MaxAttempts)
	if !retry {
		c.mu.Unlock()
		c.finish(r)
		return false
	}
	c.st = waiting
	var failed []*request
	if !p.KeepQueued {
		failed = c.q.takeAll()
		c.q.accepting = false
	}
	c.mu.Unlock()
	failAll(failed, ErrDisconnected)
	return true
}

// finish returns the client to idle and fails the writes still queued.
func (c *Client) finish(r *run) {
	c.mu.Lock()
	c.st = idle
	c.r = nil
	c.q.accepting = false
	failed := c.q.takeAll()
	c.mu.Unlock()
	r.cancel()
	failAll(failed, ErrDisconnected)
}

// sleep waits d before the next attempt and reports whether to make it;
// Disconnect and ForceDisconnect cut it short.
func (c *Client) sleep(r *run, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.ctx.Done():
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.stopped {
		return false
	}
	c.st = connecting
	c.q.accepting = true
	return true
}
