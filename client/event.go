package client

import (
	"net/http"
	"time"

	"github.com/starling-ws/starling"
)

// Event is something that happened to a Client. Its dynamic type is one of
// the types below, so a type switch reads like Starscream's switch over its
// event enum.
type Event interface {
	isEvent()
}

// Connected reports a completed opening handshake. It comes before any
// message of the connection.
type Connected struct {
	Header      http.Header // the server's 101 response headers
	Subprotocol string      // the subprotocol the server chose, or ""
}

// Disconnected ends a connection that closed with a status: the code and
// reason of the peer's close frame (RFC 6455 section 7.1.5), the code with
// which the connection was failed after a protocol violation, or
// StatusAbnormalClosure (1006) when it ended without a close frame or never
// opened.
type Disconnected struct {
	Reason string
	Code   starling.StatusCode
}

// Text is a text message received.
type Text struct {
	Data string
}

// Binary is a binary message received.
type Binary struct {
	Data []byte
}

// Ping is a ping received. The client answers it by itself: the pong goes
// out as the event is delivered, not necessarily before.
type Ping struct {
	Data []byte
}

// Pong is a pong received, including the answers to heartbeat pings.
type Pong struct {
	Data []byte
}

// Error reports why a connection failed or could not be opened. It is
// always followed by Disconnected or Cancelled.
type Error struct {
	Err error
}

// ViabilityChanged reports that the connection stopped carrying traffic
// within the heartbeat timeout (Viable false), or that traffic came again
// (Viable true).
type ViabilityChanged struct {
	Viable bool
}

// ReconnectSuggested reports that a new connection would likely serve
// better than this one (Suggested true): the network failed, or the
// connection stayed unviable for Options.SuggestReconnectAfter. Suggested
// false withdraws the suggestion when traffic comes again.
type ReconnectSuggested struct {
	Suggested bool
}

// Cancelled ends a connection that this side dropped without a close
// handshake: ForceDisconnect, or Disconnect before the connection opened or
// while waiting to reconnect.
type Cancelled struct{}

// Reconnecting reports that the reconnect policy will dial again after
// Delay. Attempt counts the failed connections in a row, from 1.
type Reconnecting struct {
	Attempt int
	Delay   time.Duration
}

func (Connected) isEvent()          {}
func (Disconnected) isEvent()       {}
func (Text) isEvent()               {}
func (Binary) isEvent()             {}
func (Ping) isEvent()               {}
func (Pong) isEvent()               {}
func (Error) isEvent()              {}
func (ViabilityChanged) isEvent()   {}
func (ReconnectSuggested) isEvent() {}
func (Cancelled) isEvent()          {}
func (Reconnecting) isEvent()       {}
