// Package h3 carries Starling's WebSockets over HTTP/3 (RFC 9220), through
// quic-go's HTTP/3 implementation (github.com/quic-go/quic-go/http3).
//
// RFC 9220 bootstraps a WebSocket on HTTP/3 as RFC 8441 does on HTTP/2: the
// client opens a request stream with an extended CONNECT whose :protocol is
// "websocket", the server answers 200, and the stream then carries ordinary
// WebSocket frames. Many WebSockets share one QUIC connection, each on its
// own stream, and none waits for another's lost packets.
//
// A server needs nothing from this package: quic-go's http3.Server enables
// extended CONNECT, and starling.Accept takes the requests it hands to a
// handler. As on HTTP/2, the handler must not return before the connection
// is closed, since the stream ends with it.
//
// A client passes RoundTripper(t), with t a quic-go *http3.Transport, as
// starling.DialOptions.HTTP2Transport, and dials a wss:// URL.
package h3

import "net/http"

// RoundTripper returns a RoundTripper that sends the extended CONNECT
// requests of starling.Dial through rt in the form quic-go's HTTP/3 client
// expects: the :protocol as the request's Proto, since HTTP/3 refuses a
// header of that name. Other requests go through unchanged.
func RoundTripper(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{rt}
}

type roundTripper struct{ rt http.RoundTripper }

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	protocol := req.Header.Get(":protocol")
	if req.Method != http.MethodConnect || protocol == "" {
		return t.rt.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given.
	r := req.Clone(req.Context())
	r.Header.Del(":protocol")
	r.Proto = protocol
	return t.rt.RoundTrip(r)
}
