package starling

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
)

// acceptGUID is the GUID RFC 6455 section 1.3 appends to the key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455
// section 4.2.2).
func acceptKey(key string) string {
	var b [64]byte // a key is 24 bytes; a longer one is refused before this
	sum := sha1.Sum(append(append(b[:0], key...), acceptGUID...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// headerTokens returns the comma-separated tokens of every value of header
// name, trimmed (RFC 7230 section 7 lists).
func headerTokens(h http.Header, name string) []string {
	var tokens []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	return tokens
}

// hasToken reports whether header name lists token, compared
// case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, t := range headerTokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}
