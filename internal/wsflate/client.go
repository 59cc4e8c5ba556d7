package wsflate

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrResponse is wrapped by the errors of ParseResponse: the server's
// Sec-WebSocket-Extensions response is one a client must fail the
// connection on (RFC 7692 section 7.1).
var ErrResponse = errors.New("wsflate: invalid permessage-deflate response")

// ClientOffer returns the client's Sec-WebSocket-Extensions offer for cfg.
// It always offers client_max_window_bits, since our Compressor honours any
// window, so the server may always limit it (RFC 7692 section 7.1.2.2).
func ClientOffer(cfg Config) string {
	s := ExtensionName
	if cfg.ServerNoContextTakeover {
		s += "; " + paramServerNoContextTakeover
	}
	if cfg.ClientNoContextTakeover {
		s += "; " + paramClientNoContextTakeover
	}
	if bits := windowOrMax(cfg.ServerMaxWindowBits); bits < MaxWindowBits {
		s += "; " + paramServerMaxWindowBits + "=" + strconv.Itoa(bits)
	}
	s += "; " + paramClientMaxWindowBits
	if bits := windowOrMax(cfg.ClientMaxWindowBits); bits < MaxWindowBits {
		s += "=" + strconv.Itoa(bits)
	}
	return s
}

// ParseResponse checks the server's Sec-WebSocket-Extensions values against
// the offer ClientOffer(cfg) made. ok is false when the server did not
// accept the extension. An error wrapping ErrResponse means the client must
// fail the connection (RFC 7692 section 7.1): a malformed header, an
// extension we did not offer, permessage-deflate twice, an unknown,
// duplicated or invalid parameter, or a response that does not honour the
// offer (server_no_context_takeover or server_max_window_bits missing or
// too large).
//
// The returned Params also carry cfg's own client-side wishes, which bind
// only our compressor: client_no_context_takeover and a client window
// smaller than the server's.
func ParseResponse(values []string, cfg Config) (p Params, ok bool, err error) {
	offers, err := ParseHeader(values)
	if err != nil {
		return Params{}, false, fmt.Errorf("%w: %w", ErrResponse, err)
	}
	for i, o := range offers {
		if o.Name != ExtensionName {
			return Params{}, false, responseError("the server accepted extension %q, which was not offered", o.Name)
		}
		if i > 0 {
			return Params{}, false, responseError("%s accepted twice", ExtensionName)
		}
	}
	if len(offers) == 0 {
		return Params{}, false, nil
	}
	s, bad := readParams(offers[0].Params, true)
	if bad != "" {
		return Params{}, false, responseError("%s", bad)
	}
	p, err = checkResponse(s, cfg)
	return p, err == nil, err
}

// checkResponse applies the rules of RFC 7692 section 7.1 that depend on
// what was offered.
func checkResponse(s paramSet, cfg Config) (Params, error) {
	if cfg.ServerNoContextTakeover && !s.serverNoContextTakeover {
		return Params{}, responseError("%s was offered but not accepted (RFC 7692 section 7.1.1.1)", paramServerNoContextTakeover)
	}
	if asked := windowOrMax(cfg.ServerMaxWindowBits); asked < MaxWindowBits {
		if s.serverMaxWindowBits == 0 || s.serverMaxWindowBits > asked {
			return Params{}, responseError("%s=%d was offered but the response has %d (RFC 7692 section 7.1.2.1)",
				paramServerMaxWindowBits, asked, s.serverMaxWindowBits)
		}
	}
	p := Params{
		ServerNoContextTakeover: s.serverNoContextTakeover,
		ClientNoContextTakeover: s.clientNoContextTakeover || cfg.ClientNoContextTakeover,
		ServerMaxWindowBits:     s.serverMaxWindowBits,
		ClientMaxWindowBits:     s.clientMaxWindowBits,
	}
	if own := windowOrMax(cfg.ClientMaxWindowBits); own < windowOrMax(p.ClientMaxWindowBits) {
		p.ClientMaxWindowBits = own
	}
	return p, nil
}

func responseError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrResponse}, args...)...)
}
