package pin

import (
	"errors"
	"strings"
)

// ErrMismatch is matched, through errors.Is, by the error of a TLS handshake
// in which no pinned key was found.
var ErrMismatch = errors.New("pin: no pinned public key in the server's certificates")

// MismatchError is the error of a handshake in which no pinned key was
// found. It names the digests seen, so that the right pin can be read from
// the error message when a server legitimately changes its key.
type MismatchError struct {
	// Seen holds the digests of the certificates that were checked, leaf
	// first, in the format New accepts.
	Seen []string

	// Unchained holds the digests, among Seen, of the pinned keys whose
	// certificates the server sent without the certificates that link
	// the leaf to them, which pin-only mode requires (see Apply).
	Unchained []string
}

// Error implements error.
func (e *MismatchError) Error() string {
	if len(e.Seen) == 0 {
		return ErrMismatch.Error() + "; the server sent no certificate"
	}
	msg := ErrMismatch.Error() + "; seen " + strings.Join(e.Seen, ", ")
	if len(e.Unchained) > 0 {
		// Without this, the message would deny that a key was sent
		// while listing it.
		msg += "; pinned, but no certificate sent links its certificate to the leaf: " +
			strings.Join(e.Unchained, ", ")
	}
	return msg
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }
