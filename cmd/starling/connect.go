package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/client"
)

const connectHelp = `Connects to a ws:// or wss:// URL.

On a terminal: a prompt with line editing and history; each line is sent as
a text message, received messages print with the time and "<", their
control characters escaped (\x1b, \n); /help lists the commands (/ping,
/pong, /binary, /close, /quit).

In a pipe: each stdin line is one text message and each received message one
stdout line (binary as hex or base64); --json prints one object per event.
The end of stdin closes with 1000 and waits for the close handshake.

Exit status: 0 after a normal close, 1 on a connection or protocol error or
another close code from the server, 2 on a usage error.
`

type connectConfig struct {
	dial         dialFlags
	jsonOut      bool
	binaryFormat string
	pingInterval time.Duration
	reconnect    bool
}

func connectCmd(ctx context.Context, args []string, s stdio) error {
	var cfg connectConfig
	fs := newFlagSet("connect", "connect [flags] URL", connectHelp, s.out)
	cfg.dial.register(fs)
	fs.BoolVar(&cfg.jsonOut, "json", false, "print one JSON object per event (connected, text, binary, ping, pong, disconnected, error, ...)")
	fs.StringVar(&cfg.binaryFormat, "binary-format", "hex", "print binary messages as `hex` or base64")
	fs.DurationVar(&cfg.pingInterval, "ping-interval", 0, "send a heartbeat ping this often (0: off)")
	fs.BoolVar(&cfg.reconnect, "reconnect", false, "reconnect with backoff after the connection drops or the server goes away")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("connect takes one URL, e.g. starling connect ws://127.0.0.1:8080/echo")
	}
	if err := checkURL(pos[0]); err != nil {
		return err
	}
	enc, err := binaryEncoder(cfg.binaryFormat)
	if err != nil {
		return err
	}
	opts, err := cfg.dial.clientOptions()
	if err != nil {
		return err
	}
	opts.HeartbeatInterval = cfg.pingInterval
	if cfg.reconnect {
		opts.Reconnect = &client.ReconnectPolicy{KeepQueued: true}
	}
	sess := &session{url: pos[0], client: client.New(pos[0], opts), reconnect: cfg.reconnect, room: make(chan struct{}, 1)}
	sess.line = sess.send
	if !cfg.jsonOut && isTerminal(s.in) && isTerminal(s.out) {
		return sess.interactive(ctx, s, enc)
	}
	if cfg.jsonOut {
		sess.show = jsonView(s.out, enc)
	} else {
		sess.show = pipeView(s.out, enc)
	}
	return sess.run(ctx, readLines(s.in), true)
}

// session is one run of connect: the client, how events are shown, and
// what the exit status will be.
type session struct {
	url       string
	client    *client.Client
	reconnect bool
	show      func(client.Event)
	line      func(string)              // acts on a line of input; default send
	notice    func(marker, text string) // shows a local message; nil in pipe modes

	pending   atomic.Int64        // writes queued and not yet on the wire
	room      chan struct{}       // a write has left the queue (see written)
	held      *string             // a line waiting for room in the queue (see send)
	closing   bool                // we started the close (end of input, /close, /quit, signal)
	closeCode starling.StatusCode // the code we sent
	lastErr   error               // the last Error event
}

// run delivers events to show and sends each input line, until the
// connection ends for good. With gate, input is read only once connected,
// so that a short script's end of input cannot cancel the handshake.
func (ss *session) run(ctx context.Context, input <-chan string, gate bool) error {
	events := ss.client.Events()
	ss.client.Connect()
	lines := input
	if gate {
		lines = nil
	}
	interrupted := ctx.Done()
	var giveUp <-chan time.Time
	var lg *linger
	var quiet <-chan time.Time // lg's timer, once input has ended
	for {
		var room <-chan struct{}
		if ss.held != nil {
			room = ss.room
		}
		select {
		case ev := <-events:
			ss.show(ev)
			if _, ok := ev.(client.Connected); ok && lg == nil && ss.held == nil && !ss.closing {
				lines = input // unless it has already ended
			}
			if lg != nil {
				lg.heard()
			}
			if done, err := ss.handle(ev); done {
				return err
			}
		case line, ok := <-lines:
			if ok {
				if ss.line(line); ss.held != nil {
					lines = nil // read on once the held line is queued
				}
				continue
			}
			lines = nil
			if gate {
				lg = newLinger(&ss.pending)
				quiet = lg.timer.C
				continue
			}
			ss.close(starling.StatusNormalClosure, "")
		case <-room:
			line := *ss.held
			ss.held = nil
			if ss.send(line); ss.held == nil {
				lines = input
			}
		case <-quiet:
			if lg.done() {
				quiet = nil
				ss.close(starling.StatusNormalClosure, "")
			}
		case <-interrupted:
			interrupted = nil
			lines = nil // a line now could only fail to be sent
			ss.close(starling.StatusNormalClosure, "")
			giveUp = time.After(5 * time.Second)
		case <-giveUp:
			ss.client.ForceDisconnect()
		}
	}
}

// handle records what an event means for the exit status, and reports
// whether the session is over.
func (ss *session) handle(ev client.Event) (bool, error) {
	switch ev := ev.(type) {
	case client.Connected:
		ss.lastErr = nil
	case client.Error:
		ss.lastErr = ev.Err
	case client.Cancelled:
		return true, ss.failure(nil)
	case client.Disconnected:
		if !ss.closing && ss.reconnect && ss.willReconnect(ev.Code) {
			return false, nil
		}
		if ss.lastErr == nil && (ev.Code == starling.StatusNormalClosure || ss.answered(ev.Code)) {
			return true, nil
		}
		return true, ss.failure(&ev)
	}
	return false, nil
}

// willReconnect mirrors client.ReconnectPolicy: codes that mean the
// connection was lost or the server went away, and refusals that may pass
// on a later try.
func (ss *session) willReconnect(code starling.StatusCode) bool {
	var he *starling.HandshakeError
	if errors.As(ss.lastErr, &he) {
		return he.StatusCode >= 500 || he.StatusCode == 408 || he.StatusCode == 429
	}
	switch code {
	case starling.StatusAbnormalClosure, starling.StatusGoingAway, starling.StatusInternalError,
		starling.StatusServiceRestart, starling.StatusTryAgainLater, starling.StatusBadGateway:
		return true
	}
	return false
}

// answered reports whether code is the server's answer to our close frame:
// an echo of our code, or a close frame without one (RFC 6455 section
// 5.5.1). Any other code means the server closed first, for its own
// reason, while our close was on its way.
func (ss *session) answered(code starling.StatusCode) bool {
	return ss.closing && (code == ss.closeCode || code == starling.StatusNoStatusRcvd)
}

// failure returns the error for a session that ended, or nil when it ended
// because we cancelled it and nothing went wrong.
func (ss *session) failure(d *client.Disconnected) error {
	switch {
	case ss.lastErr != nil:
		return plainError(ss.lastErr)
	case ss.closing && d == nil:
		return nil
	case d == nil:
		return errors.New("connection cancelled")
	case d.Code == starling.StatusAbnormalClosure:
		return errors.New("connection lost without a close frame (1006)")
	}
	return fmt.Errorf("closed by the server: %s", closeText(d.Code, d.Reason))
}

// plainError strips the wrapping that would repeat "starling:" in the one
// line printed.
func plainError(err error) error {
	var he *starling.HandshakeError
	if errors.As(err, &he) {
		return he
	}
	return err
}

// closeText formats a close status as `4000 "bye"`, or just the code.
func closeText(code starling.StatusCode, reason string) string {
	if reason == "" {
		return fmt.Sprint(int(code))
	}
	return fmt.Sprintf("%d %q", int(code), reason)
}

// close starts the close handshake once.
func (ss *session) close(code starling.StatusCode, reason string) {
	if !ss.closing {
		ss.closing, ss.closeCode = true, code
		ss.held = nil // too late to send it
		if ss.notice != nil {
			ss.notice("*", "closing with "+closeText(code, reason))
		}
		ss.client.Disconnect(code, reason)
	}
}

// send queues a line as a text message. When the client's queue is full,
// the line is held, and run reads no more input until a write has left
// the queue and the line is queued: a pipe that is faster than the
// connection must wait for it, not lose lines.
func (ss *session) send(line string) {
	ss.pending.Add(1)
	err := ss.client.WriteString(line, func(err error) {
		ss.pending.Add(-1)
		ss.written(err)
	})
	if err == nil {
		return
	}
	ss.pending.Add(-1)
	if errors.Is(err, client.ErrQueueFull) {
		ss.held = &line
		return
	}
	ss.warn(err)
}

// written is the done function of every write: it tells run that there
// may be room in the queue for a held line. The queue was not empty when
// the line was held, so a write's done always follows.
func (ss *session) written(error) {
	select {
	case ss.room <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// warn reports a local problem without ending the session: in the
// terminal as a notice, in pipes on stderr through lastErr at exit. A
// pipe keeps the first: a line refused because the connection has just
// ended must not hide the Error event that says why it ended.
func (ss *session) warn(err error) {
	if ss.notice != nil {
		ss.notice("!", err.Error())
		return
	}
	if ss.lastErr == nil {
		ss.lastErr = err
	}
}

// readLines sends each line of r (without its line ending) and closes the
// channel at the end of input.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				ch <- strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}
