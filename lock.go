package starling

import (
	"context"
	"sync"
	"sync/atomic"
)

// mutex is a lock that gives up when a context ends or the connection
// closes, so no caller can be stuck behind a stalled writer forever. Its
// wake-up channel is made at the first contention: most connections never
// have two writers at once, and an idle one should cost little memory.
type mutex struct {
	held atomic.Bool
	wake atomic.Pointer[chan struct{}]
}

func (m *mutex) tryLock() bool { return m.held.CompareAndSwap(false, true) }

func (m *mutex) lock(ctx context.Context, c *Conn) error {
	if m.tryLock() {
		return nil
	}
	wake := m.waker()
	for {
		// Tried again after wake exists: an unlock that found no channel
		// happened before this attempt, so it cannot be missed.
		if m.tryLock() {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctxError(ctx)
		case <-c.closed.done(&c.closeMu):
			return ErrClosed
		}
	}
}

func (m *mutex) unlock() {
	m.held.Store(false)
	if w := m.wake.Load(); w != nil {
		select {
		case *w <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// waker returns the wake-up channel, making it if needed.
func (m *mutex) waker() chan struct{} {
	if w := m.wake.Load(); w != nil {
		return *w
	}
	ch := make(chan struct{}, 1)
	if m.wake.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *m.wake.Load()
}

// event is a signal that fires once. Its channel, too, is made only when
// somebody waits for it, under a mutex the caller passes (the Conn's
// closeMu), which spares each event one of its own.
type event struct {
	ch    chan struct{}
	fired atomic.Bool
}

// closedChan is the channel of every event that fired before anyone waited.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

func (e *event) fire(mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	if e.fired.Swap(true) {
		return
	}
	if e.ch == nil {
		e.ch = closedChan
	} else {
		close(e.ch)
	}
}

// done returns a channel closed when the event fires.
func (e *event) done(mu *sync.Mutex) <-chan struct{} {
	mu.Lock()
	defer mu.Unlock()
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

func (e *event) hasFired() bool { return e.fired.Load() }
