package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/starling-ws/starling"
)

// ChatEvent is one JSON text message the chat room sends. Clients send
// plain text; each text message becomes a "message" event for everyone,
// the sender included, so that all members see one order.
type ChatEvent struct {
	// Type is "welcome" (to a new member only, with Members), "join",
	// "leave" or "message".
	Type    string    `json:"type"`
	Name    string    `json:"name"`
	Text    string    `json:"text,omitempty"`
	Members []string  `json:"members,omitempty"`
	Count   int       `json:"count"` // members in the room after the event
	Time    time.Time `json:"time"`
}

// memberQueue is how many events may wait for a slow member before the room
// drops it, so that one stalled reader cannot hold up the others.
const memberQueue = 256

// maxNameLen bounds a member's name, in runes.
const maxNameLen = 32

type member struct {
	name string
	conn *starling.Conn
	out  chan []byte
	gone atomic.Bool // removed from the room: write nothing more
}

// Room is a broadcast chat room.
type Room struct {
	queue   int // memberQueue, smaller in tests
	mu      sync.Mutex
	members map[*member]struct{}
	guests  int
}

// NewRoom returns an empty room.
func NewRoom() *Room {
	return &Room{queue: memberQueue, members: make(map[*member]struct{})}
}

// serveChat joins the connection to the room under the name in the "name"
// query parameter (or a guest name) until the connection ends.
func (s *Server) serveChat(c *starling.Conn, r *http.Request) error {
	return s.room.Serve(c, r.URL.Query().Get("name"))
}

// Serve runs one member's session: it announces the member, relays what
// it sends, and announces its leaving when the connection ends.
func (rm *Room) Serve(c *starling.Conn, name string) error {
	m := &member{conn: c, out: make(chan []byte, rm.queue)}
	rm.join(m, name)
	defer rm.leave(m)
	go m.writeLoop()
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if typ != starling.MessageText {
			ce := &starling.CloseError{Code: starling.StatusUnsupportedData, Reason: "chat takes text messages"}
			_ = c.Close(ce.Code, ce.Reason)
			return ce
		}
		rm.relay(m, string(p))
	}
}

// relay sends m's text to every member, unless m has been dropped: the
// room has announced its leaving, and it only awaits its close handshake.
func (rm *Room) relay(m *member, text string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, in := rm.members[m]; in {
		rm.broadcastLocked(ChatEvent{Type: "message", Name: m.name, Text: text}, nil)
	}
}

// writeLoop sends the member's queued events until the member leaves or a
// write fails.
func (m *member) writeLoop() {
	ctx := context.Background()
	for p := range m.out {
		if m.gone.Load() {
			continue
		}
		if err := m.conn.Write(ctx, starling.MessageText, p); err != nil {
			// ErrClosed: the connection is closing or closed. A close
			// handshake may be under way (the server shutting down):
			// cutting the connection now would cut off its close frame.
			if !errors.Is(err, starling.ErrClosed) {
				_ = m.conn.CloseNow()
			}
			for range m.out {
			}
			return
		}
	}
}

func (rm *Room) join(m *member, name string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	m.name = rm.uniqueName(cleanName(name))
	rm.members[m] = struct{}{}
	names := make([]string, 0, len(rm.members))
	for o := range rm.members {
		names = append(names, o.name)
	}
	slices.Sort(names)
	m.queue(encode(ChatEvent{Type: "welcome", Name: m.name, Members: names, Count: len(rm.members)}))
	rm.broadcastLocked(ChatEvent{Type: "join", Name: m.name}, m)
}

func (rm *Room) leave(m *member) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.remove(m) {
		rm.broadcastLocked(ChatEvent{Type: "leave", Name: m.name}, nil)
	}
}

// remove takes m out of the room and ends its queue, and reports whether
// it was still in.
func (rm *Room) remove(m *member) bool {
	if _, ok := rm.members[m]; !ok {
		return false
	}
	delete(rm.members, m)
	m.gone.Store(true)
	close(m.out)
	return true
}

// broadcastLocked sends ev to every member except skip, then drops the
// members whose queue was full: one stalled reader must not hold up the
// room or make it buffer without bound.
func (rm *Room) broadcastLocked(ev ChatEvent, skip *member) {
	ev.Count = len(rm.members)
	// One encoding shared by every queue: a copy each would multiply a
	// large message by the members.
	p := encode(ev)
	var slow []*member
	for m := range rm.members {
		if m != skip && !m.queue(p) {
			slow = append(slow, m)
		}
	}
	for _, m := range slow {
		if rm.remove(m) {
			// The close frame goes out once the member reads what is
			// already on its way, or the write timeout ends it.
			go m.conn.Close(starling.StatusPolicyViolation, "too slow to keep up with the room")
			rm.broadcastLocked(ChatEvent{Type: "leave", Name: m.name}, nil)
		}
	}
}

// encode stamps ev with the time and marshals it.
func encode(ev ChatEvent) []byte {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	p, _ := json.Marshal(ev) // a ChatEvent always marshals
	return p
}

// queue queues an encoded event for m, and reports false if m's queue is
// full. The writer only reads p, so members share it.
func (m *member) queue(p []byte) bool {
	select {
	case m.out <- p:
		return true
	default:
		return false
	}
}

// cleanName trims a requested name to printable runes and maxNameLen.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxNameLen {
		s = string(r[:maxNameLen])
	}
	return strings.TrimSpace(s)
}

// uniqueName returns name, or a guest name if it is empty, with a number
// appended while another member has it.
func (rm *Room) uniqueName(name string) string {
	if name == "" {
		rm.guests++
		name = fmt.Sprintf("guest-%d", rm.guests)
	}
	taken := func(n string) bool {
		for m := range rm.members {
			if m.name == n {
				return true
			}
		}
		return false
	}
	candidate := name
	for i := 2; taken(candidate); i++ {
		candidate = fmt.Sprintf("%s-%d", name, i)
	}
	return candidate
}
