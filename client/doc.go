// Package client is an event-driven WebSocket client in the manner of
// Swift's Starscream, with a heartbeat and reconnecting built in.
//
// Create a Client for a URL or an *http.Request, choose how to receive its
// events (SetDelegate, OnEvent or Events: exactly one per client), and call
// Connect, which returns at once. The client dials, reads and writes in its
// own goroutines, and delivers every Event one at a time, in order, from a
// delivery goroutine of its own (or through Options.Executor), never
// concurrently. A slow receiver slows reading instead of losing events:
// none is ever dropped.
//
// # Lifecycle
//
// A client is in one of four states: idle, connecting, open and waiting (to
// reconnect). Every Connect, and every Reconnecting event, begins an
// attempt, and every attempt ends with exactly one of Disconnected or
// Cancelled, which Error may precede. The transitions, with the events
// they deliver:
//
//	idle ──Connect──▶ connecting
//	connecting ──handshake done──▶ open: Connected
//	connecting ──dial or handshake failed──▶ Error, Disconnected{1006 or 1015}
//	connecting ──Disconnect or ForceDisconnect──▶ Cancelled
//	open ──message, ping, pong──▶ open: Text, Binary, Ping, Pong
//	open ──no traffic for HeartbeatTimeout──▶ open: ViabilityChanged{false}
//	open ──unviable for SuggestReconnectAfter──▶ open: ReconnectSuggested{true}
//	open ──traffic again──▶ open: ViabilityChanged{true} (and ReconnectSuggested{false})
//	open ──server's close frame──▶ Disconnected{its code and reason}
//	open ──Disconnect(code, reason)──▶ (close handshake) Disconnected{the server's answering code}
//	open ──ForceDisconnect──▶ Cancelled
//	open ──network error──▶ ReconnectSuggested{true}, Error, Disconnected{1006}
//	open ──protocol violation──▶ Error, Disconnected{1002, 1007, 1009...}
//	after Disconnected ──ReconnectPolicy covers it──▶ waiting: Reconnecting{n, delay}
//	after Disconnected or Cancelled, otherwise ──▶ idle
//	waiting ──delay over──▶ connecting (then OnReconnect after Connected)
//	waiting ──Disconnect or ForceDisconnect──▶ idle: Cancelled
//
// So Connected comes before any message of its connection, and nothing of
// a connection comes after its Disconnected or Cancelled. By then every
// write of the connection has had its done called, or is kept for the
// next connection (ReconnectPolicy.KeepQueued). Connect may be called again
// once the client is idle, even from the receiver of Disconnected.
//
// # Writes
//
// WriteString, WriteData, WritePing and WritePong never block: they queue
// the frame and return. One goroutine per connection writes the queue in
// order and then calls the write's done function, with nil once the frame
// is on the socket, or with an error if the connection ended first; every
// done is called exactly once, and none is forgotten on disconnect. The
// queue is bounded by Options.MaxQueuedBytes: past it a write fails at once
// with ErrQueueFull.
package client
