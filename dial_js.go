//go:build js && wasm

package starling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"syscall/js"
)

// In a browser, Go cannot open sockets: the page's WebSocket object opens
// the connection, performs the handshake and the framing on the wire, and
// hands over whole messages. So Dial wraps one in a transport that speaks
// frames to the Conn (browserSocket): everything above it (Read, ReadSlice,
// Reader, Writer, limits, contexts, Close) is the same code as elsewhere.

// dialConn opens a browser WebSocket to u and waits until it is open.
func dialConn(ctx context.Context, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	if len(opts.Pins) > 0 {
		// A browser verifies certificates its own way; ignoring pins
		// would pass for a check that never happens.
		return nil, nil, invalidRequest{errors.New("starling: certificate pins are not available in a browser")}
	}
	s, err := openBrowserSocket(ctx, u.String(), opts.Subprotocols)
	if err != nil {
		return nil, nil, fmt.Errorf("starling: dial %s: %w", u.Redacted(), err)
	}
	protocol := s.ws.Get("protocol").String()
	c := dialedConn(s, nil, protocol, nil, opts)
	// The browser shows no handshake response: this one holds what it
	// reports of it.
	resp := &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
		Body:   http.NoBody,
	}
	if protocol != "" {
		resp.Header.Set(headerProtocol, protocol)
	}
	if ext := s.ws.Get("extensions").String(); ext != "" {
		resp.Header.Set(headerExtensions, ext)
	}
	return c, resp, nil
}

// openBrowserSocket creates a WebSocket object and waits for it to open,
// fail, or ctx to end.
func openBrowserSocket(ctx context.Context, url string, subprotocols []string) (*browserSocket, error) {
	protocols := make([]any, len(subprotocols))
	for i, p := range subprotocols {
		protocols[i] = p
	}
	var ws js.Value
	if err := jsCatch(func() { ws = js.Global().Get("WebSocket").New(url, protocols) }); err != nil {
		return nil, err
	}
	s := newBrowserSocket(ws)
	select {
	case <-s.opened:
		return s, nil
	case <-s.closed:
		s.Close()
		// Browsers do not say why a connection failed (a refused
		// handshake, a certificate, the network): only that it did.
		return nil, errors.New("the browser could not open the WebSocket (see its console for why)")
	case <-ctx.Done():
		s.Close()
		return nil, ctxError(ctx)
	}
}

// jsCatch runs f and returns the JavaScript exception it threw, if any.
func jsCatch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jsErr
		}
	}()
	f()
	return nil
}
