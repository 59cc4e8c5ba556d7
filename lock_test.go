package starling

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestMutexExcludes has goroutines contend for the lock; the race detector
// and the count check that they never hold it together and none is lost.
func TestMutexExcludes(t *testing.T) {
	var m mutex
	c := new(Conn)
	var wg sync.WaitGroup
	n := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if err := m.lock(context.Background(), c); err != nil {
					t.Error(err)
					return
				}
				n++
				m.unlock()
			}
		}()
	}
	wg.Wait()
	if n != 8000 {
		t.Fatalf("n = %d, want 8000", n)
	}
}

// TestMutexGivesUp checks that a waiter leaves when its context ends or
// the connection closes, and that the lock still works afterwards.
func TestMutexGivesUp(t *testing.T) {
	var m mutex
	c := new(Conn)
	m.lock(context.Background(), c)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := m.lock(ctx, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock under an ended context: %v", err)
	}
	got := make(chan error)
	go func() { got <- m.lock(context.Background(), c) }()
	c.closed.fire(&c.closeMu)
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Fatalf("lock on a closed connection: %v", err)
	}

	m.unlock()
	if !m.tryLock() {
		t.Fatal("the lock is not free after unlock")
	}
	if m.tryLock() {
		t.Fatal("tryLock took a held lock")
	}
}

// TestEvent checks that an event's channel is closed whether it was asked
// for before or after the event fired.
func TestEvent(t *testing.T) {
	var before, after event
	var mu sync.Mutex
	ch := before.done(&mu)
	before.fire(&mu)
	after.fire(&mu)
	after.fire(&mu) // a second fire is harmless
	for _, c := range []<-chan struct{}{ch, after.done(&mu)} {
		select {
		case <-c:
		default:
			t.Fatal("channel of a fired event is open")
		}
	}
	if !before.hasFired() || !after.hasFired() {
		t.Fatal("hasFired is false after fire")
	}
}
