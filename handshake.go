package starling

import (
	"crypto/sha1"
	"encoding/base64"
	"iter"
	"net/http"
	"slices"
	"strings"
)

// The handshake's header fields (RFC 6455 section 11.3), spelled as
// net/textproto canonicalizes them: http.Header looks a canonical name up
// as it is, and would allocate the canonical form of any other spelling.
const (
	headerKey        = "Sec-Websocket-Key"
	headerVersion    = "Sec-Websocket-Version"
	headerProtocol   = "Sec-Websocket-Protocol"
	headerExtensions = "Sec-Websocket-Extensions"
	headerAccept     = "Sec-Websocket-Accept"
)

// acceptGUID is the GUID RFC 6455 section 1.3 appends to the key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455
// section 4.2.2).
func acceptKey(key string) string { return string(appendAcceptKey(nil, key)) }

// appendAcceptKey appends acceptKey(key) to dst.
func appendAcceptKey(dst []byte, key string) []byte {
	var b [64]byte // a key is 24 bytes; a longer one is refused before this
	sum := sha1.Sum(append(append(b[:0], key...), acceptGUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// tokens yields the comma-separated tokens of every value of header name,
// trimmed (RFC 7230 section 7 lists).
func tokens(h http.Header, name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range h.Values(name) {
			for t := range strings.SplitSeq(v, ",") {
				if t = strings.TrimSpace(t); t != "" && !yield(t) {
					return
				}
			}
		}
	}
}

// headerTokens returns the tokens of header name as a slice.
func headerTokens(h http.Header, name string) []string { return slices.Collect(tokens(h, name)) }

// hasToken reports whether header name lists token, compared
// case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for t := range tokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}
