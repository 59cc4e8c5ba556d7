package peer

import (
	"context"
	"fmt"
	"sync"
)

// Hub collects events from a peer and hands them to waiters by connection
// id and kind. The zero value is ready to use.
type Hub struct {
	mu      sync.Mutex
	events  []Event
	changed chan struct{}
}

// Post records e and wakes waiters.
func (h *Hub) Post(e Event) {
	h.mu.Lock()
	h.events = append(h.events, e)
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	h.mu.Unlock()
}

// Wait removes and returns the first event for id of the given kind,
// waiting for it until ctx ends. An EventError for id is returned as an
// error at once, since the peer will not report anything better.
func (h *Hub) Wait(ctx context.Context, id, kind string) (Event, error) {
	for {
		h.mu.Lock()
		for i, e := range h.events {
			if e.ID != id || (e.Kind != kind && e.Kind != EventError) {
				continue
			}
			h.events = append(h.events[:i], h.events[i+1:]...)
			h.mu.Unlock()
			if e.Kind == EventError && kind != EventError {
				return e, fmt.Errorf("peer reported an error on %s: %s", id, e.Reason)
			}
			return e, nil
		}
		if h.changed == nil {
			h.changed = make(chan struct{})
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for %q event on %s: %w", kind, id, ctx.Err())
		}
	}
}
