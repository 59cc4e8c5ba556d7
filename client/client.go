package client

import (
	"context"
	"net/http"
	"sync"

	"github.com/starling-ws/starling"
)

// state is where a Client is in the lifecycle described in the package
// documentation.
type state int

const (
	idle state = iota
	connecting
	open
	waiting // for the reconnect delay
)

// Client is a WebSocket client that connects in its own goroutines and
// delivers what happens as Events. Create one with New or NewFromRequest.
// Its methods may be called from any goroutine, including from the
// receiver of its events.
type Client struct {
	url  string
	host string
	opts Options

	mu       sync.Mutex
	recv     receiver
	st       state
	r        *run          // the current run, from Connect to its last event; nil when idle
	lastDone chan struct{} // closed when the previous run's deliveries are over
	q        queue
}

// New returns a client for a ws:// or wss:// URL (http and https mean the
// same). Nothing happens until Connect.
func New(url string, opts *Options) *Client {
	c := &Client{url: url}
	if opts != nil {
		c.opts = *opts
		c.opts.Header = opts.Header.Clone()
	}
	c.q.init(c.opts.MaxQueuedBytes)
	return c
}

// NewFromRequest returns a client for req's URL, sending req's headers and
// Host with the handshake, in the manner of Starscream's URLRequest. Headers
// in opts are added to req's.
func NewFromRequest(req *http.Request, opts *Options) *Client {
	c := New(req.URL.String(), opts)
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for k, vs := range c.opts.Header {
		h[k] = append(h[k], vs...)
	}
	c.opts.Header = h
	c.host = req.Host
	return c
}

// Connect starts connecting and returns at once. The outcome arrives as
// events: Connected, or Error and Disconnected. Connect does nothing if the
// client is already connecting, connected or waiting to reconnect. It
// panics if no receiver (SetDelegate, OnEvent or Events) has been set,
// because events would have nowhere to go.
func (c *Client) Connect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r != nil {
		return
	}
	if !c.recv.set() {
		panic("client: Connect without a receiver: call SetDelegate, OnEvent or Events first")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{evq: make(chan Event), ctx: ctx, cancel: cancel}
	c.r = r
	c.st = connecting
	c.q.accepting = true
	prev, done := c.lastDone, make(chan struct{})
	c.lastDone = done
	go c.dispatch(prev, r.evq, done)
	go c.runLoop(r)
}

// Disconnect closes the connection with a close handshake (RFC 6455 section
// 7) carrying code and reason, after the writes already queued; later
// writes fail with ErrNotConnected. It returns at once; the connection ends
// with Disconnected, whose code is the one the server answers with.
// Messages the server sends meanwhile are delivered, or discarded if the
// handshake reads them first, since this side has said it is done. The code
// must be one that may be sent (see starling.Conn.Close); another drops
// the connection, which then ends with Error (saying why) and
// Disconnected{1006}, as does a server that does not answer in time.
//
// Before the connection is open, or while waiting to reconnect, Disconnect
// gives up and the attempt ends with Cancelled. The client does not
// reconnect after Disconnect.
func (c *Client) Disconnect(code starling.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	if r == nil || r.stopped {
		return
	}
	r.stopped = true
	c.q.accepting = false
	if c.st != open {
		r.closeReq = &request{kind: closeFrame, code: code, reason: reason}
		r.cancel()
		return
	}
	c.q.push(&request{kind: closeFrame, code: code, reason: reason})
}

// ForceDisconnect drops the connection at once, without a close handshake,
// and stops any reconnecting. The attempt ends with Cancelled, unless its
// last events were already on their way.
func (c *Client) ForceDisconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	if r == nil || r.forced {
		return
	}
	r.stopped, r.forced = true, true
	c.q.accepting = false
	r.cancel()
	if r.cn != nil {
		r.cn.conn.CloseNow()
	}
}
