package wsflate

import "strconv"

// The extension parameters of RFC 7692 section 7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Window sizes allowed by RFC 7692 section 7.1.2, as base-2 logarithms.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// Params is the outcome of a negotiation: the parameters of the accepted
// permessage-deflate response (RFC 7692 section 7.1). A window of 0 means
// the parameter was absent, which is the same as 15.
type Params struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
}

// Config is what our side wants and allows, in either role. The server
// fields limit the server's compressor and the client fields the client's:
// a NoContextTakeover field asks that side to reset its LZ77 window after
// each message, which lets the peer's decompressor be pooled between
// messages. A window of 0 means 15; other values are clamped to 8..15.
type Config struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
}

// Out reports how our side compresses the messages it sends: a server uses
// the server_* parameters and a client the client_* ones (RFC 7692 section
// 7.1). windowBits is in 8..15.
func (p Params) Out(isServer bool) (noContextTakeover bool, windowBits int) {
	if isServer {
		return p.ServerNoContextTakeover, windowOrMax(p.ServerMaxWindowBits)
	}
	return p.ClientNoContextTakeover, windowOrMax(p.ClientMaxWindowBits)
}

// In reports how the peer compresses the messages we receive, the mirror
// of Out. A Decompressor accepts any window, so windowBits is informative.
func (p Params) In(isServer bool) (noContextTakeover bool, windowBits int) {
	return p.Out(!isServer)
}

// String returns p as a Sec-WebSocket-Extensions response value. Absent
// parameters are left out.
func (p Params) String() string {
	s := ExtensionName
	if p.ServerNoContextTakeover {
		s += "; " + paramServerNoContextTakeover
	}
	if p.ClientNoContextTakeover {
		s += "; " + paramClientNoContextTakeover
	}
	if p.ServerMaxWindowBits != 0 {
		s += "; " + paramServerMaxWindowBits + "=" + strconv.Itoa(p.ServerMaxWindowBits)
	}
	if p.ClientMaxWindowBits != 0 {
		s += "; " + paramClientMaxWindowBits + "=" + strconv.Itoa(p.ClientMaxWindowBits)
	}
	return s
}

// windowOrMax maps an absent window (0) to 15 and clamps others to 8..15.
func windowOrMax(bits int) int {
	switch {
	case bits == 0 || bits > MaxWindowBits:
		return MaxWindowBits
	case bits < MinWindowBits:
		return MinWindowBits
	}
	return bits
}

// parseWindowBits parses a window-bits value: a decimal integer without
// leading zeroes between 8 and 15 (RFC 7692 sections 7.1.2.1 and 7.1.2.2).
func parseWindowBits(v string) (int, bool) {
	if v == "" || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || v[0] == '+' || n < MinWindowBits || n > MaxWindowBits {
		return 0, false
	}
	return n, true
}

// paramSet is the permessage-deflate parameters of one offer or response
// after the checks both roles share: every name is known, none is
// repeated, and the no_context_takeover ones have no value (RFC 7692
// section 7).
type paramSet struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int  // 0 when absent
	clientMaxWindowBits     int  // 0 when absent or without a value
	clientMaxWindowBitsSeen bool // present, with or without a value
}

// readParams checks params; clientBitsNeedValue is true for a response,
// where client_max_window_bits must carry a value (RFC 7692 7.1.2.2).
func readParams(params []Param, clientBitsNeedValue bool) (paramSet, string) {
	var s paramSet
	seen := make(map[string]bool, len(params))
	for _, prm := range params {
		if seen[prm.Name] {
			return s, "duplicate parameter " + prm.Name
		}
		seen[prm.Name] = true
		switch prm.Name {
		case paramServerNoContextTakeover, paramClientNoContextTakeover:
			if prm.HasValue {
				return s, prm.Name + " must not have a value"
			}
			if prm.Name == paramServerNoContextTakeover {
				s.serverNoContextTakeover = true
			} else {
				s.clientNoContextTakeover = true
			}
		case paramServerMaxWindowBits:
			n, ok := parseWindowBits(prm.Value)
			if !ok {
				return s, "invalid " + prm.Name + " value " + strconv.Quote(prm.Value)
			}
			s.serverMaxWindowBits = n
		case paramClientMaxWindowBits:
			s.clientMaxWindowBitsSeen = true
			if !prm.HasValue && !clientBitsNeedValue {
				continue
			}
			n, ok := parseWindowBits(prm.Value)
			if !ok {
				return s, "invalid " + prm.Name + " value " + strconv.Quote(prm.Value)
			}
			s.clientMaxWindowBits = n
		default:
			return s, "unknown parameter " + prm.Name
		}
	}
	return s, ""
}
