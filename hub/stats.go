package hub

import "sync/atomic"

// Stats counts what a hub has done since New, for metrics: a hub that
// drops or closes keeps no secret of it.
type Stats struct {
	// Messages counts the messages fanned out to this hub's subscribers,
	// once each however many received it: those published here and, with
	// a Broker, those the broker delivered.
	Messages int64
	// Queued counts the copies queued for connections: a message to a
	// topic of 100 subscribers adds 100.
	Queued int64
	// Dropped counts the copies dropped because a connection's queue was
	// full and Options.Overflow is DropNewest.
	Dropped int64
	// ClosedSlow counts the connections closed because their queue was
	// full and Options.Overflow is CloseSlow.
	ClosedSlow int64
	// Refused counts the messages a Broker delivered that no connection
	// may be sent, such as text that is not valid UTF-8 from a foreign
	// publisher: the hub drops them.
	Refused int64
}

// stats are a Hub's counters, added to once per fan-out.
type stats struct {
	messages, queued, dropped, closedSlow, refused atomic.Int64
}

// Stats returns h's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Messages:   h.stats.messages.Load(),
		Queued:     h.stats.queued.Load(),
		Dropped:    h.stats.dropped.Load(),
		ClosedSlow: h.stats.closedSlow.Load(),
		Refused:    h.stats.refused.Load(),
	}
}
