package server

import (
	"runtime"
	"strings"
	"testing"
)

// TestBroadcastEncodesOnce checks that a message to the room is encoded
// once and shared by every member's queue, not copied per member: a client
// sending messages near the read limit (32 MiB by default) to a room of a
// hundred would otherwise make the server hold gigabytes.
func TestBroadcastEncodesOnce(t *testing.T) {
	const members = 50
	const size = 1 << 20
	rm := NewRoom()
	var first *member
	for range members {
		m := &member{out: make(chan []byte, rm.queue)}
		rm.join(m, "m")
		if first == nil {
			first = m
		}
	}
	text := strings.Repeat("x", size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rm.relay(first, text)
	runtime.ReadMemStats(&after)
	for m := range rm.members {
		if got := len(m.out); got == 0 {
			t.Fatalf("member %s received nothing", m.name)
		}
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*size {
		t.Fatalf("one %d-byte message to %d members allocated %d bytes; want it encoded once (< %d)", size, members, alloc, 8*size)
	}
}
