package starling

import "sync/atomic"

// Stats is what a connection has carried since its handshake.
type Stats struct {
	// MessagesRead and MessagesWritten count whole data messages: a
	// message counts once its last frame has been read, or written.
	MessagesRead, MessagesWritten int64

	// BytesRead and BytesWritten count the bytes that went through the
	// connection after the handshake: frame headers and control frames
	// included, payloads as they travelled (masked, compressed). Written
	// bytes count once their write call returns, which may be after the
	// peer has read them.
	BytesRead, BytesWritten int64
}

// stats are a Conn's counters, added to by the reader or a writer and
// read by Stats from any goroutine: atomic, so no lock is shared.
type stats struct {
	messagesRead, messagesWritten atomic.Int64
	bytesRead, bytesWritten       atomic.Int64
}

// Stats returns c's counters. It may be called from any goroutine, also
// after c has closed, for metrics or logs.
func (c *Conn) Stats() Stats {
	return Stats{
		MessagesRead:    c.stats.messagesRead.Load(),
		MessagesWritten: c.stats.messagesWritten.Load(),
		BytesRead:       c.stats.bytesRead.Load(),
		BytesWritten:    c.stats.bytesWritten.Load(),
	}
}
