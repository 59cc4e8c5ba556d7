package starling

import "testing"

// TestHandshakeErrorControlCharacters checks that the server's refusal
// body shows in HandshakeError's message as one line with its control
// characters (C0 but tab, DEL and C1, which terminals read as escapes)
// as '?', and every printable character, from '~' to U+00A0, as it is.
func TestHandshakeErrorControlCharacters(t *testing.T) {
	body := "a\x1b[31mb\x7fc\u009bd\u0080e\u009fE\tf~\u00a0g\r\nX-Forged: 1"
	e := &HandshakeError{StatusCode: 403, Status: "403 Forbidden", Body: body}
	want := "starling: handshake refused: 403 Forbidden: a?[31mb?c?d?e?E\tf~\u00a0g"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
