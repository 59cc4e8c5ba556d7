package wsflate

// Negotiate is the server side of RFC 7692 section 5: it walks the client's
// offers in preference order, skips other extensions, declines a
// permessage-deflate offer with an unknown, duplicated or invalid parameter
// (RFC 7692 section 7), and accepts the first remaining one. response is the
// Sec-WebSocket-Extensions value to send; ok is false when nothing was
// accepted.
//
// The response always honours the offer's requests and adds cfg's:
// server_no_context_takeover when offered or wanted (7.1.1.1),
// client_no_context_takeover when offered or wanted (7.1.1.2; echoing the
// client's hint lets our decompressor be pooled), server_max_window_bits as
// the smaller of the offer and cfg (7.1.2.1), and client_max_window_bits
// only when the client offered it, since a response must not carry it
// otherwise (7.1.2.2).
func Negotiate(offers []Offer, cfg Config) (p Params, response string, ok bool) {
	for _, o := range offers {
		if o.Name != ExtensionName {
			continue
		}
		s, bad := readParams(o.Params, false)
		if bad != "" {
			continue
		}
		p = accept(s, cfg)
		return p, p.String(), true
	}
	return Params{}, "", false
}

// accept builds the response parameters for a valid offer s.
func accept(s paramSet, cfg Config) Params {
	p := Params{
		ServerNoContextTakeover: s.serverNoContextTakeover || cfg.ServerNoContextTakeover,
		ClientNoContextTakeover: s.clientNoContextTakeover || cfg.ClientNoContextTakeover,
	}
	if bits := min(windowOrMax(cfg.ServerMaxWindowBits), windowOrMax(s.serverMaxWindowBits)); bits < MaxWindowBits || s.serverMaxWindowBits != 0 {
		p.ServerMaxWindowBits = bits
	}
	if s.clientMaxWindowBitsSeen {
		if bits := min(windowOrMax(cfg.ClientMaxWindowBits), windowOrMax(s.clientMaxWindowBits)); bits < MaxWindowBits || s.clientMaxWindowBits != 0 {
			p.ClientMaxWindowBits = bits
		}
	}
	return p
}
