// Package utf8v validates UTF-8 incrementally, for WebSocket text messages
// that arrive in fragments: RFC 6455 section 8.1 asks an endpoint to fail
// the connection as soon as the bytes received cannot be valid UTF-8, not
// only at the end of the message.
package utf8v

// Validator checks UTF-8 incrementally. The zero value is ready.
//
// The rules are those of unicode/utf8: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no stray continuation bytes.
type Validator struct {
	state uint8 // a DFA state; the zero value is sAccept
}

// Write adds p to the text checked so far and reports whether it may still
// be valid. It returns false as soon as the text is certainly invalid: a
// sequence split between writes is judged byte by byte, so, for example,
// F4 90 fails at the 90 (it would encode more than U+10FFFF) and ED A0 at
// the A0 (a surrogate). Once Write has returned false it always does,
// until Reset.
func (v *Validator) Write(p []byte) bool {
	v.state = uint8(scan(uint64(v.state), p))
	return v.state != sError
}

// Complete reports whether everything written so far is valid UTF-8 and
// ends on a character boundary. Call it at the end of a message.
func (v *Validator) Complete() bool {
	return v.state == sAccept
}

// Reset clears v for a new message.
func (v *Validator) Reset() {
	*v = Validator{}
}
