package client_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

// chaosRelay forwards TCP connections to a target and misbehaves on
// command, as a bad network or a broken middlebox would: it drops
// connections, blackholes them, refuses new ones, cuts new ones after a
// few bytes towards the client, and injects bytes of its own.
type chaosRelay struct {
	ln     net.Listener
	target string

	refuse atomic.Bool  // accept new connections and close them at once
	cutAt  atomic.Int32 // if > 0, cut new connections after so many bytes towards the client

	mu    sync.Mutex
	links []*chaosLink
	wg    sync.WaitGroup
}

// chaosLink is one relayed connection: a is the client's side, b the
// server's.
type chaosLink struct {
	a, b net.Conn
	amu  sync.Mutex // serializes writes to a
	gate gate
}

func newChaosRelay(t *testing.T, target string) *chaosRelay {
	r := &chaosRelay{ln: listen(t), target: target}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(func() {
		r.ln.Close()
		r.dropAll()
		r.wg.Wait()
	})
	return r
}

func (r *chaosRelay) addr() string { return r.ln.Addr().String() }

func (r *chaosRelay) serve() {
	defer r.wg.Done()
	for {
		a, err := r.ln.Accept()
		if err != nil {
			return
		}
		if r.refuse.Load() {
			a.Close()
			continue
		}
		b, err := net.Dial("tcp", r.target)
		if err != nil {
			a.Close()
			continue
		}
		l := &chaosLink{a: a, b: b}
		r.mu.Lock()
		r.links = append(r.links, l)
		r.mu.Unlock()
		cut := int(r.cutAt.Load())
		r.wg.Add(2)
		go func() { defer r.wg.Done(); r.pipe(l, true, cut) }()
		go func() { defer r.wg.Done(); r.pipe(l, false, 0) }()
	}
}

// pipe forwards one direction until either side ends; cut, if positive,
// drops the link after that many bytes.
func (r *chaosRelay) pipe(l *chaosLink, toClient bool, cut int) {
	src, dst := l.a, l.b
	if toClient {
		src, dst = l.b, l.a
	}
	defer l.close()
	buf := make([]byte, 4096)
	sent := 0
	for {
		n, err := src.Read(buf)
		l.gate.wait()
		if n > 0 {
			p := buf[:n]
			if cut > 0 && sent+n >= cut {
				p = p[:cut-sent]
			}
			if toClient {
				l.amu.Lock()
			}
			_, werr := dst.Write(p)
			if toClient {
				l.amu.Unlock()
			}
			sent += len(p)
			if werr != nil || (cut > 0 && sent >= cut) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *chaosLink) close() {
	l.gate.release()
	l.a.Close()
	l.b.Close()
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		g.open = make(chan struct{})
	}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != nil {
		close(g.open)
		g.open = nil
	}
}

// each calls f for every link relayed so far.
func (r *chaosRelay) each(f func(l *chaosLink)) {
	r.mu.Lock()
	links := r.links
	r.mu.Unlock()
	for _, l := range links {
		f(l)
	}
}

func (r *chaosRelay) dropAll()      { r.each((*chaosLink).close) }
func (r *chaosRelay) blackholeAll() { r.each(func(l *chaosLink) { l.gate.hold() }) }
func (r *chaosRelay) resumeAll()    { r.each(func(l *chaosLink) { l.gate.release() }) }

// inject writes p to the client of every link, between two forwarded
// writes, and drops the links if end is set.
func (r *chaosRelay) inject(p []byte, end bool) {
	r.each(func(l *chaosLink) {
		l.amu.Lock()
		l.a.Write(p)
		l.amu.Unlock()
		if end {
			l.close()
		}
	})
}

// retryable lists the close codes that ReconnectPolicy documents as
// reconnected.
func retryable(code starling.StatusCode) bool {
	switch code {
	case 1001, 1006, 1011, 1012, 1013, 1014:
		return true
	}
	return false
}

// lifecycle checks, event by event, the order that the package
// documentation promises: each attempt (begun by Connect or Reconnecting)
// ends with exactly one Disconnected or Cancelled; Connected comes before
// anything of its connection; Error comes just before the end; the policy
// decides Reconnecting; nothing follows the run's last event.
type lifecycle struct {
	policy *client.ReconnectPolicy

	mu        sync.Mutex
	errs      []string
	log       []string
	st        string // "attempt", "open", "error", "ended", "stopping-wait", "cancel-only", "final"
	stopped   bool   // the test called Disconnect or ForceDisconnect
	opened    bool   // the current attempt opened
	attempts  int    // as the Reconnecting events should count them
	corrupt   bool   // bytes were injected, so message payloads may be garbled
	lastRecv  int    // the last message number received
	ended     chan struct{}
	endedOnce sync.Once
	viable    bool
	suggested bool
}

func newLifecycle(p *client.ReconnectPolicy) *lifecycle {
	return &lifecycle{policy: p, st: "attempt", lastRecv: -1, ended: make(chan struct{}), viable: true}
}

func (l *lifecycle) fail(format string, args ...any) {
	l.errs = append(l.errs, fmt.Sprintf(format, args...)+"\n\tafter: "+strings.Join(tail(l.log, 12), "\n\t       "))
}

func tail(s []string, n int) []string { return s[max(0, len(s)-n):] }

func (l *lifecycle) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}

// garble notes that injected bytes may have changed messages.
func (l *lifecycle) garble() {
	l.mu.Lock()
	l.corrupt = true
	l.mu.Unlock()
}

func (l *lifecycle) event(ev client.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, fmt.Sprintf("%s %#v", l.st, ev))
	if len(l.log) > 200 {
		l.log = l.log[100:]
	}
	switch l.st {
	case "final":
		l.fail("event %#v after the run's last event", ev)
		return
	case "error":
		switch ev.(type) {
		case client.Disconnected, client.Cancelled:
		default:
			l.fail("Error followed by %#v", ev)
		}
	case "cancel-only":
		if _, ok := ev.(client.Cancelled); !ok {
			l.fail("%#v after Reconnecting that follows a stop", ev)
		}
	}
	switch ev := ev.(type) {
	case client.Connected:
		if l.st != "attempt" {
			l.fail("Connected in state %s", l.st)
		}
		l.st, l.opened, l.viable, l.suggested = "open", true, true, false
	case client.Text:
		if l.st != "open" {
			l.fail("Text in state %s", l.st)
		}
		if n, err := strconv.Atoi(ev.Data); !l.corrupt && (err != nil || n <= l.lastRecv) {
			l.fail("message %q after message %d: lost order or a duplicate", ev.Data, l.lastRecv)
		} else if err == nil {
			l.lastRecv = max(l.lastRecv, n)
		}
	case client.Binary, client.Ping, client.Pong:
		if l.st != "open" {
			l.fail("%#v in state %s", ev, l.st)
		}
	case client.ViabilityChanged:
		if l.st != "open" || ev.Viable == l.viable {
			l.fail("%#v in state %s, viable %v", ev, l.st, l.viable)
		}
		l.viable = ev.Viable
	case client.ReconnectSuggested:
		if l.st != "open" || ev.Suggested == l.suggested {
			l.fail("%#v in state %s, suggested %v", ev, l.st, l.suggested)
		}
		l.suggested = ev.Suggested
	case client.Error:
		if l.st != "attempt" && l.st != "open" {
			l.fail("Error in state %s", l.st)
		}
		l.st = "error"
	case client.Disconnected:
		if l.st == "ended" || l.st == "stopping-wait" {
			l.fail("second end of an attempt: %#v", ev)
		}
		if l.opened {
			l.attempts = 0
		}
		l.st, l.opened = "ended", false
		p := l.policy
		retry := p != nil && retryable(ev.Code) && !l.stopped && (p.MaxAttempts == 0 || l.attempts+1 <= p.MaxAttempts)
		switch {
		case retry:
		case l.stopped:
			// A stop may come after the retry was decided: then
			// Reconnecting and Cancelled follow.
			l.st = "stopping-wait"
			l.end()
		default:
			l.st = "final"
			l.end()
		}
	case client.Cancelled:
		if !l.stopped {
			l.fail("Cancelled without Disconnect or ForceDisconnect")
		}
		if l.st == "ended" || l.st == "stopping-wait" {
			l.fail("Cancelled after the end of an attempt, without Reconnecting")
		}
		l.st = "final"
		l.end()
	case client.Reconnecting:
		switch l.st {
		case "ended":
		case "stopping-wait":
			// Only Cancelled may follow.
		default:
			l.fail("Reconnecting in state %s", l.st)
		}
		l.attempts++
		if ev.Attempt != l.attempts {
			l.fail("Reconnecting{Attempt: %d}, want %d", ev.Attempt, l.attempts)
		}
		if ev.Delay < l.policy.MinDelay || ev.Delay > l.policy.MaxDelay {
			l.fail("Reconnecting delay %v outside [%v, %v]", ev.Delay, l.policy.MinDelay, l.policy.MaxDelay)
		}
		if l.st == "stopping-wait" {
			l.st = "cancel-only"
		} else {
			l.st = "attempt"
		}
	}
}

// end reports the run over, as far as the events tell.
func (l *lifecycle) end() { l.endedOnce.Do(func() { close(l.ended) }) }

func (l *lifecycle) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// writes tracks every write's done: exactly once, and never for a write
// that returned an error.
type writes struct {
	mu      sync.Mutex
	calls   map[int]int
	refused map[int]bool
	errs    []string
}

func newWrites() *writes { return &writes{calls: map[int]int{}, refused: map[int]bool{}} }

// write queues message n with cl.WriteString; its done then calls also,
// if set.
func (w *writes) write(cl *client.Client, n int, also func(error)) error {
	err := cl.WriteString(strconv.Itoa(n), func(err error) {
		w.mu.Lock()
		w.calls[n]++
		if w.calls[n] > 1 {
			w.errs = append(w.errs, fmt.Sprintf("done of write %d called %d times", n, w.calls[n]))
		}
		w.mu.Unlock()
		if also != nil {
			also(err)
		}
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.refused[n] = true
		if w.calls[n] > 0 {
			w.errs = append(w.errs, fmt.Sprintf("write %d returned %v but its done was called", n, err))
		}
	}
	return err
}

// pending returns the accepted writes whose done has not been called.
func (w *writes) pending(upTo int) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var p []int
	for n := range upTo {
		if !w.refused[n] && w.calls[n] == 0 {
			p = append(p, n)
		}
	}
	return p
}

// chaosServer echoes, and now and then ends a connection its own way:
// a close frame with a code of some class, no close frame at all, or a
// message over the client's read limit.
func chaosServer(t *testing.T, seed uint64) string {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 1))
	codes := []starling.StatusCode{1000, 1001, 1008, 1011, 1012, 1013, 3000, 4000, 4999}
	return newServer(t, nil, func(c *starling.Conn, r *http.Request) {
		mu.Lock()
		action, after, code := rng.IntN(10), rng.IntN(30), codes[rng.IntN(len(codes))]
		mu.Unlock()
		for i := 0; ; i++ {
			typ, b, err := c.Read(bg)
			if err != nil {
				return
			}
			if i == after {
				switch action {
				case 0:
					c.Close(code, "chaos")
					return
				case 1:
					c.CloseNow()
					return
				case 2:
					c.Write(bg, starling.MessageBinary, make([]byte, 70000))
				}
			}
			if c.Write(bg, typ, b) != nil {
				return
			}
		}
	})
}

// TestChaos runs clients through a relay that misbehaves at random
// moments, with a server that ends connections its own ways, while a
// goroutine writes and the test disconnects at random moments. Whatever
// happens, the events keep the documented order, every done is called
// exactly once, and the client ends when told.
func TestChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	srvURL := chaosServer(t, seed)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	deadline := time.Now().Add(10 * time.Second)
	for session := 0; time.Now().Before(deadline); session++ {
		chaosSession(t, rl, rng, session)
		if t.Failed() {
			t.Logf("seed %d, session %d", seed, session)
			return
		}
	}
}

func chaosSession(t *testing.T, rl *chaosRelay, rng *rand.Rand, session int) {
	policy := &client.ReconnectPolicy{
		MinDelay:   time.Millisecond,
		MaxDelay:   20 * time.Millisecond,
		KeepQueued: rng.IntN(2) == 0,
	}
	if rng.IntN(3) == 0 {
		policy.MaxAttempts = 1 + rng.IntN(3)
	}
	opts := &client.Options{
		Reconnect:        policy,
		ReadLimit:        1 << 16,
		HandshakeTimeout: 2 * time.Second,
	}
	if rng.IntN(2) == 0 {
		opts.HeartbeatInterval = 20 * time.Millisecond
		opts.HeartbeatTimeout = 200 * time.Millisecond
		opts.SuggestReconnectAfter = 100 * time.Millisecond
	}
	cl := client.New("ws://"+rl.addr(), opts)
	lc := newLifecycle(policy)
	cl.OnEvent(lc.event)
	w := newWrites()

	// Connect from several goroutines at once: one run.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); cl.Connect() }()
	}
	wg.Wait()

	stopWriting := make(chan struct{})
	written := make(chan int)
	go func() {
		n := 0
		defer func() { written <- n }()
		for {
			select {
			case <-stopWriting:
				return
			default:
			}
			w.write(cl, n, nil)
			n++
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		}
	}()

	steps := 1 + rng.IntN(8)
	stopped := false
	for i := 0; i < steps && !stopped; i++ {
		time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
		select {
		case <-lc.ended:
			stopped = true
			continue
		default:
		}
		switch rng.IntN(12) {
		case 0:
			rl.dropAll()
		case 1:
			rl.blackholeAll()
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			rl.resumeAll()
		case 2:
			rl.refuse.Store(true)
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			rl.refuse.Store(false)
		case 3:
			rl.cutAt.Store(int32(1 + rng.IntN(200)))
			rl.dropAll()
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			rl.cutAt.Store(0)
		case 4:
			garbage := make([]byte, 1+rng.IntN(64))
			for j := range garbage {
				garbage[j] = byte(rng.IntN(256))
			}
			lc.garble()
			rl.inject(garbage, rng.IntN(2) == 0)
		case 5:
			lc.garble()
			rl.inject([]byte{0x88, 0x00}, rng.IntN(2) == 0) // close, no status
		case 6:
			lc.garble()
			rl.inject([]byte{0x88, 0x02, 0x03, 0xf3}, true) // close 1011, then gone
		case 7:
			lc.stop()
			cl.Disconnect(starling.StatusNormalClosure, "bye")
			stopped = true
		case 8:
			lc.stop()
			cl.ForceDisconnect()
			stopped = true
		}
	}
	if !stopped {
		lc.stop()
		if rng.IntN(2) == 0 {
			cl.Disconnect(starling.StatusGoingAway, "")
		} else {
			cl.ForceDisconnect()
		}
	}
	rl.refuse.Store(false)
	rl.cutAt.Store(0)
	rl.resumeAll()
	select {
	case <-lc.ended:
	case <-time.After(eventTimeout):
		t.Errorf("session %d: no last event within %v", session, eventTimeout)
		cl.ForceDisconnect()
	}
	close(stopWriting)
	n := <-written
	// Quiet for a while: nothing after the last event, and every done
	// called by then.
	time.Sleep(50 * time.Millisecond)
	cl.ForceDisconnect()
	time.Sleep(50 * time.Millisecond)
	if p := w.pending(n); len(p) > 0 {
		t.Errorf("session %d: done never called for writes %v", session, p)
	}
	if b := cl.Buffered(); b != 0 {
		t.Errorf("session %d: Buffered() = %d once the client ended, want 0", session, b)
	}
	for _, e := range append(lc.errors(), w.errs...) {
		t.Errorf("session %d: %s", session, e)
	}
}

// TestChaosFromCallbacks calls the client from its own goroutines, at odd
// times: the receiver of events writes, disconnects and drops the
// connection, and done functions write again or disconnect, while the
// relay drops and blackholes connections. The promises hold as in
// TestChaos.
func TestChaosFromCallbacks(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	srvURL := newServer(t, nil, echo)
	rl := newChaosRelay(t, strings.TrimPrefix(srvURL, "ws://"))
	deadline := time.Now().Add(8 * time.Second)
	for session := 0; time.Now().Before(deadline) && !t.Failed(); session++ {
		callbackSession(t, rl, rng.Uint64(), session)
	}
}

func callbackSession(t *testing.T, rl *chaosRelay, seed uint64, session int) {
	var mu sync.Mutex // guards rng, which callbacks on several goroutines use
	rng := rand.New(rand.NewPCG(seed, 4))
	roll := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(n)
	}
	policy := &client.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, KeepQueued: roll(2) == 0}
	opts := &client.Options{Reconnect: policy}
	if roll(2) == 0 {
		opts.HeartbeatInterval = 10 * time.Millisecond
		opts.HeartbeatTimeout = 50 * time.Millisecond
		opts.SuggestReconnectAfter = 50 * time.Millisecond
	}
	cl := client.New("ws://"+rl.addr(), opts)
	lc := newLifecycle(policy)
	w := newWrites()
	// Writes come from several goroutines: each takes its number and
	// queues under order, so that numbers are queued in their order.
	var order sync.Mutex
	next := 0
	numbered := func(also func(error)) {
		order.Lock()
		defer order.Unlock()
		w.write(cl, next, also)
		next++
	}
	doneFn := func(err error) {
		switch roll(20) {
		case 0:
			lc.stop()
			cl.Disconnect(starling.StatusNormalClosure, "from done")
		case 1:
			lc.stop()
			cl.ForceDisconnect()
		case 2, 3, 4:
			numbered(nil)
		}
	}
	write := func() { numbered(doneFn) }
	cl.OnEvent(func(ev client.Event) {
		lc.event(ev)
		switch roll(40) {
		case 0:
			lc.stop()
			cl.Disconnect(starling.StatusNormalClosure, "from receiver")
		case 1:
			lc.stop()
			cl.ForceDisconnect()
		case 2:
			rl.dropAll()
		case 3, 4, 5, 6:
			write()
			write()
		case 7:
			cl.WritePing([]byte("p"), doneFn)
		}
	})
	if err := cl.WriteString("early", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("write before Connect = %v, want ErrNotConnected", err)
	}
	cl.Connect()
	cl.Connect()
	for i := 0; i < 5; i++ {
		time.Sleep(time.Duration(roll(30)) * time.Millisecond)
		switch roll(4) {
		case 0:
			rl.dropAll()
		case 1:
			rl.blackholeAll()
			time.Sleep(time.Duration(roll(150)) * time.Millisecond)
			rl.resumeAll()
		default:
			write()
		}
	}
	lc.stop()
	if roll(2) == 0 {
		cl.Disconnect(starling.StatusNormalClosure, "")
	} else {
		cl.ForceDisconnect()
	}
	rl.resumeAll()
	select {
	case <-lc.ended:
	case <-time.After(eventTimeout):
		t.Errorf("session %d: no last event within %v", session, eventTimeout)
	}
	time.Sleep(30 * time.Millisecond)
	cl.ForceDisconnect()
	time.Sleep(30 * time.Millisecond)
	if err := cl.WriteString("late", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("session %d: write after the end = %v, want ErrNotConnected", session, err)
	}
	order.Lock()
	written := next
	order.Unlock()
	if p := w.pending(written); len(p) > 0 {
		t.Errorf("session %d: done never called for writes %v", session, p)
	}
	if b := cl.Buffered(); b != 0 {
		t.Errorf("session %d: Buffered() = %d once the client ended, want 0", session, b)
	}
	for _, e := range append(lc.errors(), w.errs...) {
		t.Errorf("session %d: %s", session, e)
	}
}
