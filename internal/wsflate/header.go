package wsflate

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by the errors of ParseHeader for a header value that
// does not follow the grammar of RFC 6455 section 9.1.
var ErrSyntax = errors.New("wsflate: malformed Sec-WebSocket-Extensions header")

// Offer is one element of a Sec-WebSocket-Extensions header: an extension
// name and its parameters, in header order. A client sends one Offer per
// configuration it supports, in preference order; a server answers with the
// one it accepted.
type Offer struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. HasValue distinguishes "name" from
// "name=value"; a quoted-string value is stored unquoted.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// ParseHeader parses the Sec-WebSocket-Extensions header values (all field
// lines, in order) into offers, following RFC 6455 section 9.1:
//
//	extension-list = 1#extension
//	extension      = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// Whitespace is allowed around separators and empty list elements are
// ignored, as RFC 7230 section 7 asks of recipients. A quoted value must be a
// token once unescaped (RFC 6455 section 9.1). Anything else is an error
// wrapping ErrSyntax.
func ParseHeader(values []string) ([]Offer, error) {
	var offers []Offer
	for _, v := range values {
		p := headerParser{s: v}
		var err error
		if offers, err = p.list(offers); err != nil {
			return nil, err
		}
	}
	return offers, nil
}

// headerParser scans one header field value.
type headerParser struct {
	s   string
	pos int
}

func (p *headerParser) list(offers []Offer) ([]Offer, error) {
	for {
		p.skipSpace()
		if p.pos == len(p.s) {
			return offers, nil
		}
		if p.s[p.pos] == ',' { // empty list element
			p.pos++
			continue
		}
		o, err := p.extension()
		if err != nil {
			return nil, err
		}
		offers = append(offers, o)
		p.skipSpace()
		if p.pos < len(p.s) {
			if p.s[p.pos] != ',' {
				return nil, p.errorf("expected ',' or ';'")
			}
			p.pos++
		}
	}
}

func (p *headerParser) extension() (Offer, error) {
	name := p.token()
	if name == "" {
		return Offer{}, p.errorf("expected an extension token")
	}
	o := Offer{Name: name}
	for {
		p.skipSpace()
		if p.pos == len(p.s) || p.s[p.pos] != ';' {
			return o, nil
		}
		p.pos++
		prm, err := p.param()
		if err != nil {
			return Offer{}, err
		}
		o.Params = append(o.Params, prm)
	}
}

func (p *headerParser) param() (Param, error) {
	p.skipSpace()
	prm := Param{Name: p.token()}
	if prm.Name == "" {
		return Param{}, p.errorf("expected a parameter token")
	}
	p.skipSpace()
	if p.pos == len(p.s) || p.s[p.pos] != '=' {
		return prm, nil
	}
	p.pos++
	p.skipSpace()
	prm.HasValue = true
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		v, err := p.quoted()
		if err != nil {
			return Param{}, err
		}
		prm.Value = v
		return prm, nil
	}
	if prm.Value = p.token(); prm.Value == "" {
		return Param{}, p.errorf("expected a parameter value")
	}
	return prm, nil
}

// quoted reads a quoted-string (RFC 7230 section 3.2.6) whose unescaped
// content must be a token (RFC 6455 section 9.1).
func (p *headerParser) quoted() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch c {
		case '"':
			v := b.String()
			if v == "" || !IsToken(v) {
				p.pos = start
				return "", p.errorf("quoted value is not a token")
			}
			return v, nil
		case '\\':
			if p.pos == len(p.s) {
				return "", p.errorf("unterminated quoted-pair")
			}
			c = p.s[p.pos]
			p.pos++
		}
		b.WriteByte(c)
	}
	p.pos = start
	return "", p.errorf("unterminated quoted-string")
}

func (p *headerParser) token() string {
	start := p.pos
	for p.pos < len(p.s) && isTokenChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *headerParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *headerParser) errorf(msg string) error {
	return fmt.Errorf("%w: %s at offset %d of %q", ErrSyntax, msg, p.pos, p.s)
}

// IsToken reports whether s is an HTTP token (RFC 7230 section 3.2.6), as
// extension names, parameters and header field names must be.
func IsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// isTokenChar reports whether c is a tchar (RFC 7230 section 3.2.6).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
