package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-ws/starling"
)

// connection is one opened WebSocket connection of a run.
type connection struct {
	c    *Client
	r    *run
	conn *starling.Conn

	stop      chan struct{} // closed when the reader has returned
	hookDone  chan struct{} // closed when OnReconnect has returned, or at once without one
	closeDone chan struct{} // closed when Disconnect's close handshake has returned
	wg        sync.WaitGroup
	via       viability
	muted     atomic.Bool // set when the connection is closed before Connected

	dropErr error // why this side dropped the connection; guarded by Client.mu
}

// attempt dials once and, if that succeeds, serves the connection until it
// ends.
func (c *Client) attempt(r *run, reconnect bool) outcome {
	cn := &connection{c: c, r: r, stop: make(chan struct{}), hookDone: make(chan struct{}), closeDone: make(chan struct{})}
	timeout := c.opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	conn, resp, err := starling.Dial(ctx, c.url, c.dialOptions(cn))
	cancel()
	if err != nil {
		if r.ctx.Err() != nil {
			return outcome{tail: []Event{Cancelled{}}}
		}
		code, retry := dialFailure(err)
		return outcome{tail: []Event{Error{err}, Disconnected{Code: code}}, retry: retry}
	}
	cn.conn = conn
	hook := c.opts.Reconnect.onReconnect()
	if testHookDialed != nil {
		testHookDialed()
	}
	if !c.opened(r, cn) {
		return outcome{tail: []Event{Cancelled{}}}
	}
	r.emit(Connected{Header: resp.Header, Subprotocol: conn.Subprotocol()})
	if reconnect && hook != nil {
		r.emit(hookCall{fn: func() { c.runHook(hook) }, done: cn.hookDone})
	} else {
		close(cn.hookDone)
	}
	out := cn.ending(cn.serve())
	out.opened = true
	return out
}

// testHookDialed, if set, runs between a successful dial and opened:
// tests stop the client there.
var testHookDialed func()

// opened moves the client to open, unless Disconnect or ForceDisconnect
// came during the dial, in which case it closes conn and reports false.
func (c *Client) opened(r *run, cn *connection) bool {
	c.mu.Lock()
	r.cn = cn // for ForceDisconnect, even during the close below
	if r.stopped {
		cr, forced := r.closeReq, r.forced
		c.mu.Unlock()
		// The close handshake may read a ping, which must not become an
		// event: Connected never went out.
		cn.muted.Store(true)
		if cr != nil && !forced {
			_ = cn.conn.Close(cr.code, cr.reason)
		}
		cn.conn.CloseNow()
		return false
	}
	c.st = open
	c.mu.Unlock()
	return true
}

func (c *Client) dialOptions(cn *connection) *starling.DialOptions {
	o := &c.opts
	d := &starling.DialOptions{
		HTTPHeader:     o.Header,
		Host:           c.host,
		Origin:         o.Origin,
		Subprotocols:   o.Subprotocols,
		TLSConfig:      o.TLSConfig,
		Pins:           o.Pins,
		PinOnly:        o.PinOnly,
		Proxy:          o.Proxy,
		ProxyTLSConfig: o.ProxyTLSConfig,
		NetDialContext: o.NetDialContext,
		Compression:    o.Compression,
		ReadLimit:      o.ReadLimit,
		WriteTimeout:   o.WriteTimeout,
		OnPing:         func(p []byte) { cn.emit(Ping{Data: clone(p)}) },
		OnPong:         func(p []byte) { cn.emit(Pong{Data: clone(p)}) },
	}
	if o.HeartbeatInterval > 0 {
		d.NetDialContext = cn.watchTraffic(d.NetDialContext)
	}
	return d
}

func (cn *connection) emit(ev Event) {
	if !cn.muted.Load() {
		cn.emitReading(ev)
	}
}

// serve runs the connection's writer and heartbeat, reads until the
// connection ends, and returns why it ended once they have all stopped.
func (cn *connection) serve() error {
	cn.wg.Add(1)
	go cn.c.writeLoop(cn)
	if cn.c.opts.HeartbeatInterval > 0 {
		cn.via.last.Store(time.Now().UnixNano())
		cn.wg.Add(1)
		go cn.heartbeat()
	}
	err := cn.readLoop()
	cn.conn.CloseNow()
	close(cn.stop)
	cn.wg.Wait()
	return err
}

func (cn *connection) readLoop() error {
	for {
		typ, b, err := cn.conn.Read(context.Background())
		switch {
		case errors.Is(err, starling.ErrConcurrentRead):
			// Disconnect's close handshake is reading for the peer's
			// close frame; its outcome is the connection's.
			select {
			case <-cn.closeDone:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		case err != nil:
			return err
		case typ == starling.MessageText:
			cn.emitReading(Text{Data: string(b)})
		default:
			cn.emitReading(Binary{Data: b})
		}
	}
}

// ending turns the error that ended a connection into the attempt's last
// events.
func (cn *connection) ending(err error) outcome {
	c := cn.c
	c.mu.Lock()
	forced, stopped, drop := cn.r.forced, cn.r.stopped, cn.dropErr
	c.mu.Unlock()
	if forced {
		return outcome{tail: []Event{Cancelled{}}}
	}
	if ce, ok := err.(*starling.CloseError); ok {
		// The peer's close frame: a clean close, not an error.
		return outcome{tail: []Event{Disconnected{Reason: ce.Reason, Code: ce.Code}}, retry: retryCode(ce.Code)}
	}
	if drop != nil {
		return outcome{tail: []Event{Error{drop}, Disconnected{Code: starling.StatusAbnormalClosure}}, retry: true}
	}
	code, reason := starling.StatusAbnormalClosure, ""
	var ce *starling.CloseError
	if errors.As(err, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	var tail []Event
	if code == starling.StatusAbnormalClosure && !stopped && !cn.via.suggestedAlready() {
		tail = append(tail, ReconnectSuggested{Suggested: true})
	}
	tail = append(tail, Error{err}, Disconnected{Reason: reason, Code: code})
	return outcome{tail: tail, retry: retryCode(code)}
}

// retryCode reports whether the reconnect policy covers a connection that
// ended with code: the codes that say the failure was in the network or
// the server's condition, not in what this client did.
func retryCode(code starling.StatusCode) bool {
	switch code {
	case starling.StatusGoingAway, starling.StatusAbnormalClosure, starling.StatusInternalError,
		starling.StatusServiceRestart, starling.StatusTryAgainLater, starling.StatusBadGateway:
		return true
	}
	return false
}

// dialFailure returns the code for a failed dial and whether the reconnect
// policy covers it: a refusal, by the server or by a proxy, is retried only
// if it may accept later, and neither a failed TLS handshake (a bad
// certificate, a pin that does not match) nor a proxy's refusal of the
// credentials is retried.
func dialFailure(err error) (starling.StatusCode, bool) {
	var he *starling.HandshakeError
	if errors.As(err, &he) {
		return starling.StatusAbnormalClosure, retryStatus(he.StatusCode)
	}
	var pe *starling.ProxyError
	if errors.As(err, &pe) {
		return starling.StatusAbnormalClosure, retryStatus(pe.StatusCode)
	}
	if errors.Is(err, starling.ErrProxyAuth) || errors.Is(err, starling.ErrInvalidRequest) { // SOCKS5; a URL, header or pin no server takes
		return starling.StatusAbnormalClosure, false
	}
	var cv *tls.CertificateVerificationError
	var alert tls.AlertError
	var rh tls.RecordHeaderError
	if errors.Is(err, starling.ErrPinMismatch) || errors.As(err, &cv) || errors.As(err, &alert) || errors.As(err, &rh) {
		return starling.StatusTLSHandshake, false
	}
	return starling.StatusAbnormalClosure, true
}

// retryStatus reports whether an HTTP refusal with status s may turn into
// an acceptance later.
func retryStatus(s int) bool {
	return s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests
}
