package starling

import (
	"net/http"
	"time"
)

// DefaultHandshakeTimeout bounds how long a client may take to send its
// handshake request on a server made by NewServer; a client that opens TCP
// and never finishes its request is dropped then.
const DefaultHandshakeTimeout = 10 * time.Second

// DefaultMaxHeaderBytes is the largest handshake request header a server
// made by NewServer reads.
const DefaultMaxHeaderBytes = 16 << 10

// NewServer returns an *http.Server for addr and handler with the limits a
// WebSocket endpoint on the open internet wants: the handshake request must
// arrive within DefaultHandshakeTimeout and fit in DefaultMaxHeaderBytes, and
// idle keep-alive HTTP connections are closed after a minute. These limits
// apply to HTTP; Accept's options bound the WebSocket connections it makes.
func NewServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: DefaultHandshakeTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		IdleTimeout:       time.Minute,
	}
}
