package starling

import "strconv"

// StatusCode is a close status code (RFC 6455 section 7.4).
type StatusCode int

// The status codes defined by RFC 6455 section 7.4.1 and the IANA registry.
const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	// StatusNoStatusRcvd reports a close frame without a code. It is never
	// sent on the wire.
	StatusNoStatusRcvd StatusCode = 1005
	// StatusAbnormalClosure reports a connection that ended without a close
	// frame. It is never sent on the wire.
	StatusAbnormalClosure     StatusCode = 1006
	StatusInvalidFramePayload StatusCode = 1007
	StatusPolicyViolation     StatusCode = 1008
	StatusMessageTooBig       StatusCode = 1009
	StatusMandatoryExtension  StatusCode = 1010
	StatusInternalError       StatusCode = 1011
	StatusServiceRestart      StatusCode = 1012
	StatusTryAgainLater       StatusCode = 1013
	StatusBadGateway          StatusCode = 1014
	// StatusTLSHandshake reports a failed TLS handshake. It is never sent on
	// the wire.
	StatusTLSHandshake StatusCode = 1015
)

var statusNames = map[StatusCode]string{
	StatusNormalClosure:       "normal closure",
	StatusGoingAway:           "going away",
	StatusProtocolError:       "protocol error",
	StatusUnsupportedData:     "unsupported data",
	StatusNoStatusRcvd:        "no status received",
	StatusAbnormalClosure:     "abnormal closure",
	StatusInvalidFramePayload: "invalid frame payload data",
	StatusPolicyViolation:     "policy violation",
	StatusMessageTooBig:       "message too big",
	StatusMandatoryExtension:  "mandatory extension",
	StatusInternalError:       "internal error",
	StatusServiceRestart:      "service restart",
	StatusTryAgainLater:       "try again later",
	StatusBadGateway:          "bad gateway",
	StatusTLSHandshake:        "TLS handshake failure",
}

// String returns the code and its registered name, e.g. "1000 (normal closure)".
func (c StatusCode) String() string {
	s := strconv.Itoa(int(c))
	if name, ok := statusNames[c]; ok {
		return s + " (" + name + ")"
	}
	return s
}

// validOnWire reports whether c may appear in a close frame (RFC 6455 section
// 7.4.1 and 7.4.2): 1000–1003, 1007–1014 and 3000–4999. 1012 (service
// restart), 1013 (try again later) and 1014 (bad gateway) were registered
// since, in the IANA registry of section 11.7. 1004 is reserved, 1005, 1006
// and 1015 only report conditions locally, and the rest of 0–2999 is
// reserved for the protocol.
func (c StatusCode) validOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
