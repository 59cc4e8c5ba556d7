package main

import (
	"sync/atomic"
	"time"
)

// After the end of input in a pipe, connect waits for its messages to be
// written and for the answers to stop coming before it closes: the client
// may discard messages that arrive during the close handshake (this side
// has said it is done), and a script piping lines into an echo or request
// endpoint wants every answer printed. The wait ends after lingerQuiet
// without traffic, and at the latest after lingerMax.
const (
	lingerQuiet = 250 * time.Millisecond
	lingerMax   = 3 * time.Second
)

// linger decides when input has ended for long enough to close.
type linger struct {
	timer    *time.Timer
	pending  *atomic.Int64
	deadline time.Time
}

func newLinger(pending *atomic.Int64) *linger {
	return &linger{
		timer:    time.NewTimer(lingerQuiet),
		pending:  pending,
		deadline: time.Now().Add(lingerMax),
	}
}

// heard restarts the quiet period after an event, within the deadline, so
// that a server streaming without pause is still closed in time.
func (l *linger) heard() {
	l.timer.Reset(max(min(lingerQuiet, time.Until(l.deadline)), 0))
}

// done reports, when the timer fires, whether to close now; if not, it
// restarts the timer.
func (l *linger) done() bool {
	if l.pending.Load() == 0 || !time.Now().Before(l.deadline) {
		return true
	}
	l.timer.Reset(lingerQuiet)
	return false
}
