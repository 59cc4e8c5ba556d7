package client

import (
	"context"

	"github.com/starling-ws/starling"
)

// writeLoop writes the queued requests of one connection in order, after
// OnReconnect has returned, until the connection ends or a write fails.
func (c *Client) writeLoop(cn *connection) {
	defer cn.wg.Done()
	select {
	case <-cn.hookDone:
	case <-cn.stop:
		return
	}
	for {
		rq := c.next(cn.stop)
		if rq == nil {
			return
		}
		err := cn.write(rq)
		c.mu.Lock()
		c.q.bytes -= len(rq.data)
		c.mu.Unlock()
		if rq.done != nil {
			rq.done(err)
		}
		if rq.kind == closeFrame {
			close(cn.closeDone)
			return
		}
		if err != nil {
			return
		}
	}
}

// next returns the next request, or nil once stop is closed.
func (c *Client) next(stop <-chan struct{}) *request {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		c.mu.Lock()
		rq := c.q.pop()
		c.mu.Unlock()
		if rq != nil {
			return rq
		}
		select {
		case <-c.q.wake:
		case <-stop:
			return nil
		}
	}
}

func (cn *connection) write(rq *request) error {
	ctx := context.Background()
	switch rq.kind {
	case textFrame:
		return cn.conn.Write(ctx, starling.MessageText, rq.data)
	case binaryFrame:
		return cn.conn.Write(ctx, starling.MessageBinary, rq.data)
	case pingFrame:
		return cn.conn.WritePing(ctx, rq.data)
	case pongFrame:
		return cn.conn.WritePong(ctx, rq.data)
	}
	err := cn.conn.Close(rq.code, rq.reason)
	if err != nil {
		// A code or reason that may not be sent, or a peer that did not
		// answer: the connection is over either way, and err says why.
		cn.drop(err)
	}
	return err
}

// runHook runs OnReconnect with the writes it makes put ahead of the queue,
// so that a resubscription goes out before the writes kept from the
// previous connection.
func (c *Client) runHook(hook func(*Client)) {
	c.mu.Lock()
	c.q.front = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.q.items = append(c.q.firsts, c.q.items...)
		c.q.firsts, c.q.front = nil, false
		c.mu.Unlock()
	}()
	hook(c)
}

func (p *ReconnectPolicy) onReconnect() func(*Client) {
	if p == nil {
		return nil
	}
	return p.OnReconnect
}
