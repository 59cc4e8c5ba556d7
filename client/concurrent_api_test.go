package client_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// runs checks the event order of a client whose Connect, Disconnect and
// ForceDisconnect are called from several goroutines at once, so that the
// test cannot tell which call took effect: a run ends with Cancelled, or
// with a Disconnected that Reconnecting may follow only if the policy
// covers its code; nothing comes after a run's end but Reconnecting or
// the events of a run that a later Connect began.
type runs struct {
	connects atomic.Int64 // Connect calls made

	mu      sync.Mutex
	started int64 // runs begun
	st      string
	log     []string
	errs    []string
}

func (r *runs) connect(cl *client.Client) {
	r.connects.Add(1)
	cl.Connect()
}

func (r *runs) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...)+"\n\tafter: "+strings.Join(tail(r.log, 12), "\n\t       "))
}

func (r *runs) event(ev client.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("%s %#v", r.st, ev))
	if len(r.log) > 200 {
		r.log = r.log[100:]
	}
	if _, ok := ev.(client.Reconnecting); ok {
		if r.st != "ended" {
			r.fail("Reconnecting in state %q", r.st)
		}
		r.st = "attempt"
		return
	}
	if r.st == "" || r.st == "ended" || r.st == "final" {
		// The start of a new run.
		if r.started >= r.connects.Load() {
			r.fail("%#v after the run's end, without a Connect", ev)
		}
		r.started++
		r.st = "attempt"
	}
	if r.st == "error" {
		switch ev.(type) {
		case client.Disconnected, client.Cancelled:
		default:
			r.fail("Error followed by %#v", ev)
		}
	}
	switch ev := ev.(type) {
	case client.Connected:
		if r.st != "attempt" {
			r.fail("Connected in state %q", r.st)
		}
		r.st = "open"
	case client.Text, client.Binary, client.Ping, client.Pong, client.ViabilityChanged, client.ReconnectSuggested:
		if r.st != "open" {
			r.fail("%#v in state %q", ev, r.st)
		}
	case client.Error:
		r.st = "error"
	case client.Disconnected:
		r.st = "final"
		if retryable(ev.Code) {
			r.st = "ended"
		}
	case client.Cancelled:
		r.st = "final"
	}
}

func (r *runs) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// TestConcurrentCalls calls every method of a client from several
// goroutines at once, and from its receiver and done functions, through a
// relay that drops connections, for a few seconds: no panic, no deadlock,
// no data race, events in order, and every done called exactly once.
func TestConcurrentCalls(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	srvURL := newServer(t, nil, echo)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	policy := &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: 3 * time.Millisecond, KeepQueued: true}
	cl := client.New("ws://"+rl.addr(), &client.Options{
		Reconnect:             policy,
		HeartbeatInterval:     5 * time.Millisecond,
		HeartbeatTimeout:      30 * time.Millisecond,
		SuggestReconnectAfter: 30 * time.Millisecond,
	})
	t.Cleanup(cl.ForceDisconnect)
	var r runs
	w := newWrites()
	var next atomic.Int64
	write := func(also func(error)) { w.write(cl, int(next.Add(1)-1), also) }
	var calls sync.Mutex // guards rng
	rng := rand.New(rand.NewPCG(seed, 5))
	roll := func(n int) int {
		calls.Lock()
		defer calls.Unlock()
		return rng.IntN(n)
	}
	act := func(n int) {
		switch roll(n) {
		case 0:
			r.connect(cl)
		case 1:
			cl.Disconnect(starling.StatusNormalClosure, "")
		case 2:
			cl.ForceDisconnect()
		case 3:
			cl.Disconnect(starling.StatusAbnormalClosure, "") // a code that may not be sent
		case 4:
			rl.dropAll()
		case 5:
			write(func(error) {
				if roll(4) == 0 {
					write(nil)
				}
			})
		case 6:
			cl.WritePing([]byte("x"), nil)
			cl.Buffered()
		}
	}
	cl.OnEvent(func(ev client.Event) {
		r.event(ev)
		act(60)
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				act(8)
				time.Sleep(time.Duration(roll(3000)) * time.Microsecond)
			}
		}()
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	// The end: whatever state the client is in, ForceDisconnect ends it,
	// and every write's done has been called once it has.
	deadline := time.Now().Add(eventTimeout)
	for {
		cl.ForceDisconnect()
		p := w.pending(int(next.Load()))
		if len(p) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("done never called for writes %v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b := cl.Buffered(); b != 0 {
		t.Errorf("Buffered() = %d once the client ended, want 0", b)
	}
	for _, e := range append(r.errors(), w.errs...) {
		t.Error(e)
	}
}
