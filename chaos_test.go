package starling_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/starlingtest"
)

// The chaos tests run two Starling Conns against each other, over loopback
// TCP and over starlingtest.Pipe, with goroutines calling the Conn's
// methods at random, and check what must hold whatever the interleaving:
// no panic and no hang, messages arrive whole and in each writer's order,
// close codes match what was sent, errors are errors.Is/As-friendly, and no
// goroutine outlives the connection. A failure prints its seed; rerun it
// with -chaos.seed.

var (
	chaosSeed    = flag.Int64("chaos.seed", 0, "seed of the chaos tests (0: from the clock)")
	chaosRounds  = flag.Int("chaos.rounds", 6, "scenarios per chaos test")
	chaosVerbose = flag.Bool("chaos.v", false, "log every call's error")
)

// chaosCallBound bounds every call: Close's two steps of 5s each, and the
// write timeout the scenarios set, fit in it.
var chaosCallBound = 20 * time.Second

// chaosWriteTimeout is the scenarios' write timeout. A deadlock between
// the peers shows as a write timeout (1006), which a scenario may also
// meet for other reasons; -chaos.hunt sets a long one and a short call
// bound, so that a deadlock fails with every goroutine's stack instead.
var chaosWriteTimeout = 3 * time.Second

var chaosHunt = flag.Bool("chaos.hunt", false, "fail with stacks on any call that takes 10s (for deadlocks)")

// chaosStart returns the seed of a chaos test, and applies -chaos.hunt.
func chaosStart(t *testing.T) int64 {
	if *chaosHunt {
		chaosWriteTimeout, chaosCallBound = time.Minute, 10*time.Second
	}
	seed := *chaosSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("chaos seed %d (rerun with -chaos.seed=%d)", seed, seed)
	return seed
}

// watchdog dumps every goroutine and panics if the returned stop is not
// called within d: a hang shows as a failure with the stacks that hung.
func watchdog(seed int64, what string, d time.Duration) (stop func()) {
	t := time.AfterFunc(d, func() {
		fmt.Fprintf(os.Stderr, "chaos seed %d: %s did not return within %v\n", seed, what, d)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		panic("chaos: hang in " + what)
	})
	return func() { t.Stop() }
}

// chaosConfig is one scenario's setup.
type chaosConfig struct {
	pipe      bool
	mode      starling.CompressionMode
	readLimit int64
}

func (cfg chaosConfig) String() string {
	return fmt.Sprintf("pipe=%v/mode=%d/limit=%d", cfg.pipe, cfg.mode, cfg.readLimit)
}

// chaosPair connects a client and a server Conn as cfg says.
func chaosPair(t *testing.T, cfg chaosConfig) (client, server *starling.Conn) {
	t.Helper()
	comp := starling.CompressionOptions{Mode: cfg.mode, Threshold: 64}
	dial := &starling.DialOptions{Compression: comp, ReadLimit: cfg.readLimit, WriteTimeout: chaosWriteTimeout}
	accept := &starling.AcceptOptions{Compression: comp, ReadLimit: cfg.readLimit, WriteTimeout: chaosWriteTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if cfg.pipe {
		c, s, err := starlingtest.Pipe(ctx, &starlingtest.Options{Dial: dial, Accept: accept})
		if err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	accepted := make(chan *starling.Conn, 1)
	url := serve(t, accept, func(c *starling.Conn) { accepted <- c })
	c, _, err := starling.Dial(ctx, url, dial)
	if err != nil {
		t.Fatal(err)
	}
	return c, <-accepted
}

// chaosSide is one Conn of a scenario and what its goroutines did.
type chaosSide struct {
	name string
	c    *starling.Conn

	mu      sync.Mutex
	sent    map[int][]int // writer → sequence numbers whose write returned nil
	codes   map[starling.StatusCode]bool
	unclean bool // a call that may end the connection without a handshake

	// One call in closeEvery closes, one in cancelEvery has a context
	// that ends mid-call; 0 for none, so that most scenarios live long.
	closeEvery, cancelEvery int
}

func (s *chaosSide) noteSent(writer, seq int) {
	s.mu.Lock()
	s.sent[writer] = append(s.sent[writer], seq)
	s.mu.Unlock()
}

func (s *chaosSide) noteCode(code starling.StatusCode) {
	s.mu.Lock()
	s.codes[code] = true
	s.mu.Unlock()
}

func (s *chaosSide) noteUnclean() {
	s.mu.Lock()
	s.unclean = true
	s.mu.Unlock()
}

// chaosMessage is the payload of message seq of a writer: a header that
// names them, then filler that depends on both, so that a message cut,
// joined or mixed with another shows. It is ASCII: valid text.
func chaosMessage(side string, writer, seq, size int) []byte {
	b := fmt.Appendf(nil, "%s:%d:%d:", side, writer, seq)
	for i := 0; len(b) < size; i++ {
		b = append(b, 'a'+byte((writer*31+seq*7+i)%26))
	}
	return b
}

// parseChaosMessage checks p and returns its writer and sequence number.
func parseChaosMessage(p []byte) (side string, writer, seq int, err error) {
	parts := bytes.SplitN(p, []byte(":"), 4)
	if len(parts) != 4 {
		return "", 0, 0, fmt.Errorf("malformed message of %d bytes: %.40q", len(p), p)
	}
	side = string(parts[0])
	writer, err1 := strconv.Atoi(string(parts[1]))
	seq, err2 := strconv.Atoi(string(parts[2]))
	if err1 != nil || err2 != nil {
		return "", 0, 0, fmt.Errorf("malformed header: %.40q", p)
	}
	if want := chaosMessage(side, writer, seq, len(p)); !bytes.Equal(p, want) {
		return "", 0, 0, fmt.Errorf("message %s/%d/%d of %d bytes is corrupt", side, writer, seq, len(p))
	}
	return side, writer, seq, nil
}

// checkChaosError fails t if err is none of what a Conn may return in a
// scenario: the connection's end (net.ErrClosed, a *CloseError), a context
// error, or the errors the scenario's misuse asks for.
func checkChaosError(t *testing.T, seed int64, op string, err error) {
	if err == nil {
		return
	}
	switch {
	case errors.Is(err, net.ErrClosed),
		starling.CloseStatus(err) != -1,
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return
	}
	t.Errorf("seed %d: %s: error neither net.ErrClosed, *CloseError nor a context error: %v (%T)", seed, op, err, err)
}

// chaosSizes are the message sizes drawn from: one frame, one write
// buffer, past a Writer's fragment, past a batch, past a small read limit.
var chaosSizes = []int{16, 200, 4000, 40 << 10, 70 << 10, 300 << 10}

// chaosRun runs one scenario.
func chaosRun(t *testing.T, seed int64, cfg chaosConfig) {
	rng := rand.New(rand.NewSource(seed))
	client, server := chaosPair(t, cfg)
	sides := []*chaosSide{
		{name: "c", c: client, sent: map[int][]int{}, codes: map[starling.StatusCode]bool{}},
		{name: "s", c: server, sent: map[int][]int{}, codes: map[starling.StatusCode]bool{}},
	}

	// Each side reads in the background, checking order and integrity.
	type received struct {
		seqs map[int][]int
		err  error
	}
	results := make([]chan received, 2)
	closeReadSide := -1
	if rng.Intn(5) == 0 {
		closeReadSide = rng.Intn(2)
	}
	for i, s := range sides {
		peer := sides[1-i]
		results[i] = make(chan received, 1)
		if i == closeReadSide {
			// A side that only writes: CloseRead answers the
			// peer's pings and close, and fails the connection
			// with 1008 at the first data message.
			go func() {
				<-s.c.CloseRead(context.Background()).Done()
				results[i] <- received{seqs: map[int][]int{}}
			}()
			continue
		}
		// A polling reader gives up after a few milliseconds each time,
		// as the package doc suggests for a loop with other work; a cut
		// that falls inside a message closes the connection, and the
		// next Read must then say so.
		var pollRNG *rand.Rand
		if rng.Intn(3) == 0 {
			pollRNG = rand.New(rand.NewSource(rng.Int63()))
		}
		go func() {
			r := received{seqs: map[int][]int{}}
			for {
				_, p, err := chaosRead(s.c, pollRNG)
				if pollRNG != nil && errors.Is(err, context.DeadlineExceeded) {
					continue // the next Read tells if the connection ended
				}
				if err != nil {
					r.err = err
					results[i] <- r
					return
				}
				side, w, seq, perr := parseChaosMessage(p)
				if perr == nil && side != peer.name {
					perr = fmt.Errorf("message from %s read by %s", side, s.name)
				}
				if perr != nil {
					t.Errorf("seed %d: %s: %v", seed, s.name, perr)
					continue
				}
				if got := r.seqs[w]; len(got) > 0 && got[len(got)-1] >= seq {
					t.Errorf("seed %d: %s: writer %d: message %d after %d", seed, s.name, w, seq, got[len(got)-1])
				}
				r.seqs[w] = append(r.seqs[w], seq)
			}
		}()
	}

	for _, s := range sides {
		s.closeEvery = []int{0, 0, 200}[rng.Intn(3)]
		s.cancelEvery = []int{0, 0, 100}[rng.Intn(3)]
	}
	const writers = 4
	const opsPerWriter = 25
	var wg sync.WaitGroup
	for _, s := range sides {
		for w := range writers {
			wrng := rand.New(rand.NewSource(rng.Int63()))
			wg.Go(func() {
				for seq := 1; seq <= opsPerWriter; seq++ {
					chaosOp(t, seed, s, w, seq, wrng)
				}
			})
		}
	}
	wg.Wait()

	// End with a close handshake from a random side, then CloseNow both.
	closer := sides[rng.Intn(2)]
	if rng.Intn(2) == 0 {
		// Let the readers catch up, so that the other side's check of
		// delivery is not always of an empty tail.
		time.Sleep(20 * time.Millisecond)
	}
	closer.noteCode(starling.StatusNormalClosure)
	stop := watchdog(seed, "final Close", chaosCallBound)
	err := closer.c.Close(starling.StatusNormalClosure, "")
	stop()
	checkChaosError(t, seed, "final Close", err)

	var got [2]received
	for i := range sides {
		select {
		case got[i] = <-results[i]:
		case <-time.After(chaosCallBound):
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			t.Fatalf("seed %d: reader of %s did not end", seed, sides[i].name)
		}
	}
	for _, s := range sides {
		s.c.CloseNow()
	}
	for i, s := range sides {
		peer := sides[1-i]
		checkChaosDelivery(t, seed, s, peer, got[i].seqs, got[i].err)
		n := 0
		for _, q := range got[i].seqs {
			n += len(q)
		}
		t.Logf("%s read %d messages, then %v", s.name, n, got[i].err)
	}
}

// chaosRead reads a message, under a context of 1 to 5 ms if poll is not
// nil.
func chaosRead(c *starling.Conn, poll *rand.Rand) (starling.MessageType, []byte, error) {
	ctx := context.Background()
	if poll != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(1+poll.Intn(5))*time.Millisecond)
		defer cancel()
	}
	return c.Read(ctx)
}

// checkChaosDelivery checks what s read of peer's messages, and the error
// its reader ended with.
func checkChaosDelivery(t *testing.T, seed int64, s, peer *chaosSide, seqs map[int][]int, rerr error) {
	checkChaosError(t, seed, s.name+" Read", rerr)
	s.mu.Lock()
	defer s.mu.Unlock()
	peer.mu.Lock()
	defer peer.mu.Unlock()
	code := starling.CloseStatus(rerr)
	// A close frame's code is one that either side sent: the peer's, or
	// ours echoed; or one Starling fails a connection with here.
	switch code {
	case -1, starling.StatusAbnormalClosure, starling.StatusMessageTooBig,
		starling.StatusInternalError, starling.StatusPolicyViolation:
	default:
		if !s.codes[code] && !peer.codes[code] {
			t.Errorf("seed %d: %s read close code %v, which neither side sent (%v, %v)", seed, s.name, code, s.codes, peer.codes)
		}
	}
	// Close reads and discards what the peer sends after our close frame
	// whenever no Read is in progress, so only a side that did not call
	// Close is owed every message.
	handshake := code != -1 && code != starling.StatusAbnormalClosure && (s.codes[code] || peer.codes[code]) && len(s.codes) == 0
	for w, sent := range peer.sent {
		got := seqs[w]
		last := 0
		if len(got) > 0 {
			last = got[len(got)-1]
		}
		i := 0
		for _, seq := range sent {
			for i < len(got) && got[i] < seq {
				i++
			}
			delivered := i < len(got) && got[i] == seq
			// A message written before one that arrived must have
			// arrived; after a close handshake, every one written.
			if !delivered && (seq < last || handshake && !peer.unclean && !s.unclean) {
				t.Errorf("seed %d: %s: writer %d's message %d was written but not read (read %v, reader ended with %v)", seed, s.name, w, seq, got, rerr)
				return
			}
		}
	}
}

// chaosOp makes one random call on s, as writer w's message seq.
func chaosOp(t *testing.T, seed int64, s *chaosSide, w, seq int, rng *rand.Rand) {
	ctx := context.Background()
	if s.cancelEvery > 0 && rng.Intn(s.cancelEvery) == 0 {
		// A context that ends mid-call; a write it cuts short closes
		// the connection.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.Intn(2000))*time.Microsecond)
		defer cancel()
		s.noteUnclean()
	}
	typ := starling.MessageBinary
	if rng.Intn(2) == 0 {
		typ = starling.MessageText
	}
	size := chaosSizes[rng.Intn(len(chaosSizes))]
	if size > 40<<10 && rng.Intn(3) != 0 {
		size = chaosSizes[rng.Intn(3)]
	}
	msg := chaosMessage(s.name, w, seq, size)
	op := rng.Intn(92)
	if s.closeEvery > 0 && rng.Intn(s.closeEvery) == 0 {
		op = 92 + rng.Intn(8) // closes are rare, so that most ops find the connection open
	}
	name := fmt.Sprintf("%s op %d", s.name, op)
	stop := watchdog(seed, name, chaosCallBound)
	defer stop()
	var err error
	switch {
	case op < 40:
		name = "Write"
		err = s.c.Write(ctx, typ, msg)
		if err == nil {
			s.noteSent(w, seq)
		}
	case op < 55:
		name = "Writer"
		err = chaosStream(ctx, s.c, typ, msg, rng)
		if err == nil {
			s.noteSent(w, seq)
		}
	case op < 65:
		name = "WritePrepared"
		var pm *starling.PreparedMessage
		pm, err = starling.NewPreparedMessage(typ, msg)
		if err == nil {
			err = s.c.WritePrepared(ctx, pm)
		}
		if err == nil {
			s.noteSent(w, seq)
		}
	case op < 72:
		name = "Ping"
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = s.c.Ping(pctx)
		cancel()
	case op < 78:
		name = "WritePing"
		err = s.c.WritePing(ctx, []byte("chaos"))
	case op < 84:
		name = "SetCompression"
		s.c.SetCompression(rng.Intn(2) == 0)
	case op < 92:
		name = "Stats"
		a := s.c.Stats()
		b := s.c.Stats()
		if b.BytesWritten < a.BytesWritten || b.MessagesWritten < a.MessagesWritten ||
			b.BytesRead < a.BytesRead || b.MessagesRead < a.MessagesRead {
			t.Errorf("seed %d: Stats went back: %+v then %+v", seed, a, b)
		}
	case op < 96:
		name = "Close"
		code := []starling.StatusCode{starling.StatusNormalClosure, starling.StatusGoingAway, 3001, 4002}[rng.Intn(4)]
		if rng.Intn(4) == 0 {
			// Codes that may not be sent are refused, not sent.
			if cerr := s.c.Close(starling.StatusAbnormalClosure, ""); !errors.Is(cerr, starling.ErrInvalidStatus) {
				t.Errorf("seed %d: Close(1006) = %v, want ErrInvalidStatus", seed, cerr)
			}
		}
		s.noteCode(code)
		err = s.c.Close(code, "chaos")
	case op < 98:
		name = "CloseNow"
		s.noteUnclean()
		err = s.c.CloseNow()
	default:
		name = "NetConn write"
		// A NetConn beside the message API: its writes are messages
		// like any other (a chaos message fits in one).
		nc := starling.NetConn(context.Background(), s.c, typ)
		if len(msg) > 100<<10 {
			msg = chaosMessage(s.name, w, seq, 4000)
		}
		nc.SetWriteDeadline(time.Now().Add(time.Duration(rng.Intn(3)) * time.Second))
		var n int
		n, err = nc.Write(msg)
		if err == nil && n == len(msg) {
			s.noteSent(w, seq)
		} else {
			s.noteUnclean()
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil
		}
	}
	checkChaosError(t, seed, name, err)
	if *chaosVerbose && err != nil {
		t.Logf("%s %d/%d %s: %v", s.name, w, seq, name, err)
	}
}

// chaosStream writes msg through a Writer in random pieces, closing it
// once or twice.
func chaosStream(ctx context.Context, c *starling.Conn, typ starling.MessageType, msg []byte, rng *rand.Rand) error {
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for len(msg) > 0 {
		n := min(len(msg), 1+rng.Intn(50<<10))
		if _, err := w.Write(msg[:n]); err != nil {
			w.Close()
			return err
		}
		msg = msg[n:]
	}
	err = w.Close()
	if rng.Intn(3) == 0 {
		if err2 := w.Close(); err2 != nil {
			return fmt.Errorf("second Close of a Writer: %w", err2)
		}
	}
	return err
}

// TestChaos runs -chaos.rounds scenarios of concurrent calls on both ends
// of one connection, alternating TCP and starlingtest.Pipe, with and
// without compression and with a small read limit.
func TestChaos(t *testing.T) {
	rng := rand.New(rand.NewSource(chaosStart(t)))
	modes := []starling.CompressionMode{starling.CompressionDisabled, starling.CompressionContextTakeover, starling.CompressionNoContextTakeover}
	for round := range *chaosRounds {
		cfg := chaosConfig{pipe: round%2 == 1, mode: modes[rng.Intn(3)]}
		if rng.Intn(3) == 0 {
			cfg.readLimit = 64 << 10
		}
		s := rng.Int63()
		t.Run(fmt.Sprintf("%d/%v", round, cfg), func(t *testing.T) {
			checkGoroutines(t)
			t.Logf("scenario seed %d", s)
			chaosRun(t, s, cfg)
		})
	}
}

// TestPongDoesNotDeadlockWriters has both peers write while both ping,
// over starlingtest.Pipe: net.Pipe buffers nothing, so a writer waits for
// the peer's reader, and a reader that waited for its own writer to send a
// pong would deadlock with the peer's doing the same, until the write
// timeout killed the connection.
func TestPongDoesNotDeadlockWriters(t *testing.T) {
	checkGoroutines(t)
	client, server := chaosPair(t, chaosConfig{pipe: true})
	defer client.CloseNow()
	defer server.CloseNow()
	const count = 5000
	msg := make([]byte, 16)
	ctx := context.Background()
	stopPing := make(chan struct{})
	var work, pingers sync.WaitGroup
	errs := make(chan error, 4)
	for _, c := range []*starling.Conn{client, server} {
		work.Go(func() {
			for range count {
				if _, _, err := c.Read(ctx); err != nil {
					errs <- fmt.Errorf("Read: %w", err)
					return
				}
			}
		})
		work.Go(func() {
			for range count {
				if err := c.Write(ctx, starling.MessageBinary, msg); err != nil {
					errs <- fmt.Errorf("Write: %w", err)
					return
				}
			}
		})
		pingers.Go(func() {
			for {
				select {
				case <-stopPing:
					return
				default:
				}
				if c.WritePing(ctx, nil) != nil {
					return
				}
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	stop := watchdog(0, t.Name(), 60*time.Second)
	work.Wait()
	stop()
	// A ping to a peer that no longer reads would wait for the write
	// timeout.
	close(stopPing)
	client.CloseNow()
	server.CloseNow()
	pingers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// chaosStreamByte is byte i of the stream a NetConn chaos writer sends,
// so that the reader can check any piece of it where it stands.
func chaosStreamByte(i int) byte { return byte(i*7 + i>>9) }

// chaosDeadline returns a random deadline: none, past, imminent or far.
func chaosDeadline(rng *rand.Rand) time.Time {
	switch rng.Intn(6) {
	case 0:
		return time.Now().Add(-time.Second)
	case 1, 2:
		return time.Now().Add(time.Duration(rng.Intn(3000)) * time.Microsecond)
	case 3:
		return time.Now().Add(time.Minute)
	}
	return time.Time{}
}

// TestChaosNetConn runs NetConn's stream both ways at once, with deadlines
// set at random to cut Reads and Writes short, and pings between its
// frames. The stream must survive every cut (RFC-less, NetConn's own
// promise): what is read is exactly what Write reported written, and, once
// the writer closes, all of it. Inside a compressed message a cut closes
// the connection; what was read must then still be a prefix.
func TestChaosNetConn(t *testing.T) {
	rng := rand.New(rand.NewSource(chaosStart(t)))
	for round := range *chaosRounds {
		cfg := chaosConfig{pipe: round%2 == 1}
		if round%4 >= 2 {
			cfg.mode = starling.CompressionNoContextTakeover
		}
		s := rng.Int63()
		t.Run(fmt.Sprintf("%d/%v", round, cfg), func(t *testing.T) {
			checkGoroutines(t)
			t.Logf("scenario seed %d", s)
			chaosNetConnRun(t, s, cfg)
		})
	}
}

func chaosNetConnRun(t *testing.T, seed int64, cfg chaosConfig) {
	rng := rand.New(rand.NewSource(seed))
	client, server := chaosPair(t, cfg)
	defer client.CloseNow()
	defer server.CloseNow()
	compressed := cfg.mode != starling.CompressionDisabled
	conns := []*starling.Conn{client, server}
	ncs := []net.Conn{
		starling.NetConn(context.Background(), client, starling.MessageBinary),
		starling.NetConn(context.Background(), server, starling.MessageBinary),
	}
	type written struct{ counted, attempted int }
	wrote := make([]chan written, 2)
	readTo := make([]chan int, 2)
	stopPing := make(chan struct{})
	var wg sync.WaitGroup
	var writers sync.WaitGroup
	writers.Add(2)
	var counted [2]atomic.Int64
	writersDone := make(chan struct{})
	readersDone := make(chan struct{})
	defer close(readersDone)
	go func() {
		writers.Wait()
		close(writersDone)
		// Wake the readers that wait without a deadline, until they see
		// writersDone.
		for {
			for _, nc := range ncs {
				nc.SetReadDeadline(time.Now())
			}
			select {
			case <-readersDone:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	stop := watchdog(seed, "NetConn chaos", 60*time.Second)
	defer stop()
	for i, nc := range ncs {
		wrng := rand.New(rand.NewSource(rng.Int63()))
		rrng := rand.New(rand.NewSource(rng.Int63()))
		wrote[i] = make(chan written, 1)
		readTo[i] = make(chan int, 1)
		wg.Go(func() { // writer
			off, attempted := 0, 0
			for range 40 {
				k := []int{1, 100, 5000, 200 << 10}[wrng.Intn(4)]
				p := make([]byte, k)
				for j := range p {
					p[j] = chaosStreamByte(off + j)
				}
				nc.SetWriteDeadline(chaosDeadline(wrng))
				attempted = max(attempted, off+k)
				n, err := nc.Write(p)
				if *chaosVerbose {
					t.Logf("writer %d at %d: Write(%d) = %d, %v", i, off, k, n, err)
				}
				if n < 0 || n > k {
					t.Errorf("seed %d: Write(%d bytes) = %d", seed, k, n)
				}
				off += n
				if err != nil {
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Logf("writer %d ends at %d: %v", i, off, err)
						checkChaosError(t, seed, "NetConn Write", err)
						break
					}
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						t.Errorf("seed %d: Write cut short: %v is not a timeout", seed, err)
					}
				}
			}
			wrote[i] <- written{off, attempted}
			counted[i].Store(int64(off))
			writers.Done()
		})
		wg.Go(func() { // reader of the other side's stream
			pos, idle := 0, 0
			buf := make([]byte, 64<<10)
			defer func() { readTo[1-i] <- pos }()
			for {
				d := chaosDeadline(rrng)
				select {
				case <-writersDone:
					// Close ends both directions, so the
					// stream is read to its end before, unless
					// the connection has ended already.
					idle++
					if pos >= int(counted[1-i].Load()) || idle > 100 {
						return
					}
					d = time.Now().Add(20 * time.Millisecond)
				default:
				}
				nc.SetReadDeadline(d)
				n, err := nc.Read(buf[:1+rrng.Intn(len(buf)-1)])
				if *chaosVerbose {
					t.Logf("reader %d at %d: Read = %d, %v", i, pos, n, err)
				}
				for j := range n {
					if buf[j] != chaosStreamByte(pos+j) {
						t.Errorf("seed %d: stream byte %d is %d, want %d", seed, pos+j, buf[j], chaosStreamByte(pos+j))
						return
					}
				}
				pos += n
				if n > 0 {
					idle = 0
				}
				switch {
				case err == nil:
				case errors.Is(err, os.ErrDeadlineExceeded):
				case err == io.EOF:
					return
				default:
					t.Logf("reader %d of the other's stream ends at %d: %v", i, pos, err)
					checkChaosError(t, seed, "NetConn Read", err)
					return
				}
			}
		})
		c := conns[i]
		wg.Go(func() { // pings between the stream's frames
			for {
				select {
				case <-stopPing:
					return
				case <-time.After(time.Millisecond):
				}
				if c.WritePing(context.Background(), nil) != nil {
					return
				}
			}
		})
	}
	for i := range ncs {
		w := <-wrote[i]
		got := <-readTo[i]
		switch {
		case got > w.attempted:
			t.Errorf("seed %d: read %d bytes of a stream of %d written", seed, got, w.attempted)
		case got != w.counted && !compressed:
			// Without compression every cut resumes, and the close
			// handshake ends the stream after all of it.
			t.Errorf("seed %d: read %d bytes, Write reported %d", seed, got, w.counted)
		}
	}
	close(stopPing)
	for _, nc := range ncs {
		nc.Close()
	}
	wg.Wait()
}
