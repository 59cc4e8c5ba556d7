// Package peer runs WebSocket implementations that Starling did not write
// (Go libraries in-process, Node and Python scripts as child processes) and
// drives them through one small protocol, so every interop cell can be
// written once, against Peer.
//
// A peer behaves according to a mode, chosen per connection:
//
//	echo       send every data message back with its type
//	close      close at once with 4001 "bye"
//	drop       drop the TCP connection at once, without a close frame
//	ping       send a ping with payload "peer-ping", then echo
//	fragments  send FragmentedText and FragmentedBinary as several frames each, then echo
//	fragecho   echo every data message as three frames (Node and Python peers)
//
// and reports what it saw as Events: the open handshake (subprotocol,
// header, and as a client the Sec-WebSocket-Extensions of the server's
// answer), pongs, and the close code and reason it received.
//
// The Node and Python peers have further modes for the edge cells of
// package matrix (blast, fragping, pong, sink), and read the query of the
// connection's URL for values: DeflateParam; code and reason for close;
// payload for ping; count and size for blast.
//
// Every peer supports permessage-deflate (RFC 7692) where its library
// does, with the library's defaults unless the URL carries DeflateParam:
// its server accepts an offer, its client makes one. Whether a connection
// is compressed is therefore Starling's choice, which is what the deflate
// cells vary.
package peer

import (
	"context"
	"errors"
)

// Modes a peer connection can be put in; see the package comment.
const (
	ModeEcho      = "echo"
	ModeClose     = "close"
	ModeDrop      = "drop"
	ModePing      = "ping"
	ModeFragments = "fragments"
	ModeFragEcho  = "fragecho"
)

// DeflateParam is the query parameter of a connection's URL that sets the
// Node and Python peers' permessage-deflate options for that connection,
// in the role each plays: a JSON object of RFC 7692 parameter names, each
// true or a number of window bits (for a client an offer, for a server
// what it asks or allows), plus "threshold", the size below which Node's
// ws sends a message uncompressed; or false to turn compression off.
// Without it the peer uses its library's defaults.
const DeflateParam = "deflate"

// What every peer offers, sends and expects, so that the two sides of a
// cell agree without talking.
const (
	// Subprotocol is the one subprotocol both sides support. Clients offer
	// "bogus.v9" first, so the server must pick from the offer list.
	Subprotocol = "chat.v1"
	// HeaderName is the custom handshake header a client sends; its value
	// is the connection's id.
	HeaderName = "X-Starling-Test"
	// PingPayload is the payload of the ping a peer sends in ModePing.
	PingPayload = "peer-ping"
	// CloseCode and CloseReason are what a peer closes with in ModeClose.
	CloseCode   = 4001
	CloseReason = "bye"
	// FragmentedText is the text message a peer sends as several frames in
	// ModeFragments. Where a peer can send raw bytes the split falls inside
	// "β", to check that UTF-8 is validated across frames; peers that send
	// strings split it on rune boundaries.
	FragmentedText = "frag-α|frag-β|frag-γ"
)

// Offered is the subprotocol list clients offer, in order.
var Offered = []string{"bogus.v9", Subprotocol}

// FragmentedBinaryParts are the frames of the binary message a peer sends
// in ModeFragments, and FragmentedBinaryJoined the message.
var (
	FragmentedBinaryParts  = [][]byte{{0, 1, 2}, {3, 4, 5, 6}, {0xff, 0xfe}}
	FragmentedBinaryJoined = []byte{0, 1, 2, 3, 4, 5, 6, 0xff, 0xfe}
)

// Event kinds.
const (
	EventOpen  = "open"  // handshake done: Subprotocol, Header (server role), Extensions (client role)
	EventPong  = "pong"  // a pong answered the peer's ping: Data
	EventClose = "close" // the connection ended: Code, Reason
	EventError = "error" // something failed inside the peer: Reason
)

// Event is one observation a peer reports about connection ID.
type Event struct {
	ID          string `json:"id"`
	Kind        string `json:"event"`
	Subprotocol string `json:"subprotocol,omitempty"`
	Header      string `json:"header,omitempty"`
	Extensions  string `json:"extensions,omitempty"`
	Data        string `json:"data,omitempty"`
	Code        int    `json:"code,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Peer is a WebSocket implementation under test.
type Peer interface {
	// Name identifies the peer in test names, e.g. "node-ws".
	Name() string
	// ServerURL returns the ws:// base URL of the peer's server, or "" if
	// the peer cannot act as a server. Starling dials
	// ServerURL()+"/"+mode+"?id="+id.
	ServerURL() string
	// Connect makes the peer's client open a connection to url, offering
	// Offered and sending HeaderName: id, and behave as mode says.
	Connect(ctx context.Context, url, mode, id string) error
	// Wait returns the next event of the given kind for connection id.
	Wait(ctx context.Context, id, kind string) (Event, error)
	// Close stops the peer.
	Close() error
}

// ErrUnavailable is wrapped by errors from starting a peer whose program is
// not installed.
var ErrUnavailable = errors.New("peer not installed")
