// Package starling implements the WebSocket protocol (RFC 6455) for clients
// and servers, with permessage-deflate (RFC 7692).
//
// A server upgrades an HTTP request with Accept; a client connects with Dial.
// Both return a *Conn, which reads and writes whole messages (Read, Write) or
// streams them (Reader, Writer), answers pings, and performs the close
// handshake (Close).
//
// Every rule of RFC 6455 is enforced in both directions. A peer that breaks
// one fails the connection with the status code the RFC names for it (1002
// protocol error, 1007 invalid data, 1009 message too big), and the error
// returned to the caller says which rule failed.
//
// For an event-driven client with heartbeat and reconnect, see the client
// package.
package starling
