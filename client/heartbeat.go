package client

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// viability tracks whether a connection carries traffic (Starscream's
// "viability", from Network.framework).
type viability struct {
	last       atomic.Int64 // when a byte last arrived or reading resumed, in Unix nanoseconds
	unviable   atomic.Bool
	pinging    atomic.Bool  // a heartbeat ping is being written
	delivering atomic.Int32 // reading waits for an event to be taken

	// mu makes each change of state and its event one step, so that the
	// events come in the order of the changes.
	mu        sync.Mutex
	since     time.Time // when the connection became unviable
	suggested bool      // ReconnectSuggested{true} went out for this stretch
}

func (v *viability) suggestedAlready() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.suggested
}

// watchTraffic wraps dial so that every byte read counts as traffic, even
// in the middle of a long message.
func (cn *connection) watchTraffic(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &trafficConn{Conn: nc, cn: cn}, nil
	}
}

// trafficConn reports each read that returns bytes.
type trafficConn struct {
	net.Conn
	cn *connection
}

func (t *trafficConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.cn.sawTraffic()
	}
	return n, err
}

// sawTraffic records traffic and, if the connection was unviable, reports
// it viable again.
func (cn *connection) sawTraffic() {
	v := &cn.via
	v.last.Store(time.Now().UnixNano())
	if !v.unviable.Load() {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.unviable.Load() {
		return
	}
	v.unviable.Store(false)
	cn.emitReading(ViabilityChanged{Viable: true})
	if v.suggested {
		v.suggested = false
		cn.emitReading(ReconnectSuggested{Suggested: false})
	}
}

// emitReading delivers an event on behalf of the connection's reading,
// which waits meanwhile for as long as the receiver takes. The wait counts
// as traffic: the bytes the peer sends meanwhile stay unread, and a slow
// receiver must not make a live connection look unviable, nor have it
// dropped with what it had received.
func (cn *connection) emitReading(ev Event) {
	v := &cn.via
	v.delivering.Add(1)
	defer v.delivering.Add(-1)
	cn.r.emit(ev)
	v.last.Store(time.Now().UnixNano())
}

// heartbeat pings every HeartbeatInterval and watches the traffic, until
// the connection ends.
func (cn *connection) heartbeat() {
	defer cn.wg.Done()
	o := &cn.c.opts
	interval := o.HeartbeatInterval
	timeout := o.HeartbeatTimeout
	if timeout <= 0 {
		timeout = 2 * interval
	}
	suggestAfter := o.SuggestReconnectAfter
	if suggestAfter <= 0 {
		suggestAfter = 2 * timeout
	}
	// Check often enough that each timeout is noticed within a quarter of
	// itself.
	tick := time.NewTicker(max(min(interval, timeout, suggestAfter)/4, time.Millisecond))
	defer tick.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-cn.stop:
			return
		case now := <-tick.C:
			if cn.closing() {
				// Viability means nothing once the client has asked to
				// close; the close handshake has its own timeouts.
				return
			}
			if now.Sub(lastPing) >= interval {
				lastPing = now
				cn.ping()
			}
			if cn.checkViability(now, timeout, suggestAfter) {
				cn.drop(ErrHeartbeatTimeout)
			}
		}
	}
}

func (cn *connection) closing() bool {
	cn.c.mu.Lock()
	defer cn.c.mu.Unlock()
	return cn.r.stopped
}

// ping writes a heartbeat ping unless the last one is still being written,
// in its own goroutine so that a stalled socket cannot stop the checks.
func (cn *connection) ping() {
	if !cn.via.pinging.CompareAndSwap(false, true) {
		return
	}
	cn.wg.Add(1)
	go func() {
		defer cn.wg.Done()
		_ = cn.conn.WritePing(context.Background(), nil)
		cn.via.pinging.Store(false)
	}()
}

// checkViability reports the connection unviable after timeout without
// traffic, suggests reconnecting after suggestAfter unviable, and reports
// whether the client should then drop the connection to reconnect.
func (cn *connection) checkViability(now time.Time, timeout, suggestAfter time.Duration) bool {
	v := &cn.via
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.delivering.Load() > 0 {
		// Reading waits for the receiver, not for the network.
		return false
	}
	if !v.unviable.Load() {
		if now.Sub(time.Unix(0, v.last.Load())) < timeout {
			return false
		}
		v.unviable.Store(true)
		v.since = now
		cn.r.emit(ViabilityChanged{Viable: false})
		return false
	}
	if v.suggested || now.Sub(v.since) < suggestAfter {
		return false
	}
	v.suggested = true
	cn.r.emit(ReconnectSuggested{Suggested: true})
	return cn.c.opts.Reconnect != nil
}

// drop closes the connection without a handshake for err, which the
// connection's Error event reports.
func (cn *connection) drop(err error) {
	c := cn.c
	c.mu.Lock()
	cn.dropErr = err
	c.mu.Unlock()
	cn.conn.CloseNow()
}
