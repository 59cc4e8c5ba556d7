// Package starling implements the WebSocket protocol (RFC 6455) for clients
// and servers, with permessage-deflate (RFC 7692).
//
// A server upgrades an HTTP request with Accept; a client connects with Dial.
// Both return a *Conn, which reads and writes whole messages (Read, Write) or
// streams them (Reader, Writer), answers pings, and performs the close
// handshake (Close); Stats counts what it carried. Accept also takes
// WebSockets over HTTP/2 (RFC 8441) and, behind quic-go's server, HTTP/3
// (RFC 9220), and Dial opens them through a transport it is given
// (DialOptions.HTTP2Transport; for HTTP/3, see the h3 module).
// For an event-driven client with heartbeat and
// reconnect, in the manner of Swift's Starscream, see the client package;
// to fan messages out to connections by topic, within a server or across
// servers, see the hub package; for one JSON value per message, see the
// wsjson package; to test code that uses a Conn without a network, see
// starlingtest.Pipe.
//
// # Concurrency
//
// Any number of goroutines may write at once: Write, WritePrepared,
// Writer, WritePing, WritePong, Ping, Close and CloseNow. Messages never
// interleave; a control frame may go out between the fragments of a
// streamed message. One goroutine at a time may read; a second
// concurrent reader gets ErrConcurrentRead. Pings are answered, and pongs
// matched to Ping, only while some goroutine reads.
//
// # Protocol errors
//
// Every rule of RFC 6455 is enforced in both directions. A peer that breaks
// one fails the connection with the status code the RFC names for it (1002
// protocol error, 1007 invalid data, 1009 message too big), and the error
// returned to the caller says which rule failed. CloseStatus and errors.As
// with *CloseError give the code that ended a connection: the peer's, the
// one Starling failed it with, or 1006 when it ended without a close frame.
//
// # Contexts and timeouts
//
// A context passed to a read or write bounds that call. A read whose
// context ends while it waits for a message returns the context's error
// and leaves the connection open, so a loop may read with a timeout and
// do something else when it passes. A frame cannot be resumed once cut
// short, so a context that ends partway through a message being read or
// written closes the connection: that call returns the context's error,
// and later calls an error matching ErrClosed, so that such a loop stops.
// A write whose context ends before its message or control frame began to
// leave just returns the error. Writes also have a timeout of their own
// (DefaultWriteTimeout), so a peer that stops reading cannot block writers
// forever. Close bounds each step of the close handshake.
// NetConn's deadlines work as a TCP connection's, and its stream survives
// them.
//
// # Limits
//
// A Conn accepts messages up to DefaultReadLimit bytes after decompression
// (SetReadLimit, ReadLimit) in at most DefaultMaxFragments frames. Accept
// refuses cross-origin requests unless their origin is listed in
// AcceptOptions.OriginPatterns. NewServer returns an http.Server with a
// handshake timeout and a header size limit, and Group closes a server's
// connections with 1001 (going away) on shutdown.
//
// # In the browser
//
// Compiled to WebAssembly for a browser (GOOS=js GOARCH=wasm), Dial opens
// the connection through the page's WebSocket object, and the Conn works
// as elsewhere on top of it. The browser does the handshake and the wire,
// so DialOptions' headers, Host, Origin, TLS, proxy, dialer and
// Compression settings do not apply (the browser negotiates compression
// itself), Pins is an error, and the response Dial returns holds only the
// subprotocol and extensions the browser reports. A browser sends no pings
// of its own (it answers the server's): Ping returns at once. It sends only
// the close codes 1000 and 3000–4999; for any other, the peer sees 1005.
// Accept and the server side are not available there.
//
// # Memory
//
// An idle connection holds no write buffer, and no read buffer on a plain
// TCP connection (over TLS, a 512-byte one): buffers are borrowed from
// pools while frames are in flight. For
// many idle connections, note that the goroutine that serves an HTTP
// request has a large stack; a server can return from its handler after
// Accept and serve the connection from a fresh goroutine.
package starling
