package wsflate

import (
	"errors"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name     string
		rfc      string // the section the expected outcome comes from
		offer    string
		cfg      Config
		want     Params
		response string // "" when declined
	}{
		{"bare offer", "5", "permessage-deflate", Config{},
			Params{}, "permessage-deflate"},
		{"other extensions are skipped", "5", "x-foo; a=b, permessage-deflate", Config{},
			Params{}, "permessage-deflate"},
		{"nothing offered", "5", "x-foo", Config{}, Params{}, ""},
		{"server_no_context_takeover offered", "7.1.1.1", "permessage-deflate; server_no_context_takeover", Config{},
			Params{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover"},
		{"server_no_context_takeover added by the server", "7.1.1.1", "permessage-deflate", Config{ServerNoContextTakeover: true},
			Params{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover"},
		{"client_no_context_takeover hint echoed", "7.1.1.2", "permessage-deflate; client_no_context_takeover", Config{},
			Params{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{"client_no_context_takeover added by the server", "7.1.1.2", "permessage-deflate", Config{ClientNoContextTakeover: true},
			Params{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{"server_max_window_bits accepted as offered", "7.1.2.1", "permessage-deflate; server_max_window_bits=10", Config{},
			Params{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10"},
		{"server_max_window_bits lowered by the server", "7.1.2.1", "permessage-deflate; server_max_window_bits=12", Config{ServerMaxWindowBits: 9},
			Params{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=9"},
		{"server_max_window_bits never raised", "7.1.2.1", "permessage-deflate; server_max_window_bits=9", Config{ServerMaxWindowBits: 12},
			Params{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=9"},
		{"server_max_window_bits added by the server", "7.1.2.1", "permessage-deflate", Config{ServerMaxWindowBits: 11},
			Params{ServerMaxWindowBits: 11}, "permessage-deflate; server_max_window_bits=11"},
		{"client_max_window_bits without value, server does not limit", "7.1.2.2", "permessage-deflate; client_max_window_bits", Config{},
			Params{}, "permessage-deflate"},
		{"client_max_window_bits without value, server limits", "7.1.2.2", "permessage-deflate; client_max_window_bits", Config{ClientMaxWindowBits: 10},
			Params{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10"},
		{"client_max_window_bits with value echoed", "7.1.2.2", "permessage-deflate; client_max_window_bits=12", Config{},
			Params{ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits=12"},
		{"client_max_window_bits with value lowered", "7.1.2.2", "permessage-deflate; client_max_window_bits=12", Config{ClientMaxWindowBits: 8},
			Params{ClientMaxWindowBits: 8}, "permessage-deflate; client_max_window_bits=8"},
		{"client_max_window_bits not offered must not be sent", "7.1.2.2", "permessage-deflate", Config{ClientMaxWindowBits: 10},
			Params{}, "permessage-deflate"},
		{"all parameters", "7.1", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11", Config{},
			Params{true, true, 10, 11}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11"},
		{"quoted value", "7.1.2.1 and RFC 6455 9.1", `permessage-deflate; server_max_window_bits="10"`, Config{},
			Params{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10"},
		{"first acceptable offer wins", "5", "permessage-deflate; server_max_window_bits=10, permessage-deflate", Config{},
			Params{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10"},
		// Offers a server must decline (RFC 7692 section 7).
		{"unknown parameter declines, next offer accepted", "7", "permessage-deflate; foo, permessage-deflate; client_no_context_takeover", Config{},
			Params{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{"duplicate parameter", "7", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", Config{}, Params{}, ""},
		{"duplicate window bits", "7", "permessage-deflate; client_max_window_bits; client_max_window_bits=10", Config{}, Params{}, ""},
		{"server_no_context_takeover with value", "7.1.1.1", "permessage-deflate; server_no_context_takeover=1", Config{}, Params{}, ""},
		{"client_no_context_takeover with value", "7.1.1.2", "permessage-deflate; client_no_context_takeover=x", Config{}, Params{}, ""},
		{"server_max_window_bits without value", "7.1.2.1", "permessage-deflate; server_max_window_bits", Config{}, Params{}, ""},
		{"server_max_window_bits 7", "7.1.2.1", "permessage-deflate; server_max_window_bits=7", Config{}, Params{}, ""},
		{"server_max_window_bits 16", "7.1.2.1", "permessage-deflate; server_max_window_bits=16", Config{}, Params{}, ""},
		{"server_max_window_bits leading zero", "7.1.2.1", "permessage-deflate; server_max_window_bits=09", Config{}, Params{}, ""},
		{"server_max_window_bits not a number", "7.1.2.1", "permessage-deflate; server_max_window_bits=abc", Config{}, Params{}, ""},
		{"client_max_window_bits 7", "7.1.2.2", "permessage-deflate; client_max_window_bits=7", Config{}, Params{}, ""},
		{"client_max_window_bits 16", "7.1.2.2", "permessage-deflate; client_max_window_bits=16", Config{}, Params{}, ""},
		{"client_max_window_bits leading zero", "7.1.2.2", "permessage-deflate; client_max_window_bits=010", Config{}, Params{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offers, err := ParseHeader([]string{tt.offer})
			if err != nil {
				t.Fatal(err)
			}
			p, resp, ok := Negotiate(offers, tt.cfg)
			if ok != (tt.response != "") || p != tt.want || resp != tt.response {
				t.Fatalf("RFC 7692 section %s: Negotiate(%q, %+v) = %+v, %q, %v; want %+v, %q",
					tt.rfc, tt.offer, tt.cfg, p, resp, ok, tt.want, tt.response)
			}
		})
	}
}

func TestParamsDirection(t *testing.T) {
	p := Params{ServerNoContextTakeover: true, ClientMaxWindowBits: 9}
	if nct, bits := p.Out(true); !nct || bits != 15 {
		t.Errorf("server Out = %v, %d; want true, 15", nct, bits)
	}
	if nct, bits := p.In(true); nct || bits != 9 {
		t.Errorf("server In = %v, %d; want false, 9", nct, bits)
	}
	if nct, bits := p.Out(false); nct || bits != 9 {
		t.Errorf("client Out = %v, %d; want false, 9", nct, bits)
	}
	if nct, bits := p.In(false); !nct || bits != 15 {
		t.Errorf("client In = %v, %d; want true, 15", nct, bits)
	}
}

func TestClientOffer(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "permessage-deflate; client_max_window_bits"},
		{Config{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, "permessage-deflate; client_max_window_bits"},
		{Config{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 9},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"},
	}
	for _, tt := range tests {
		if got := ClientOffer(tt.cfg); got != tt.want {
			t.Errorf("ClientOffer(%+v) = %q; want %q", tt.cfg, got, tt.want)
		}
		// Our own server accepts our own offer.
		offers, err := ParseHeader([]string{ClientOffer(tt.cfg)})
		if err != nil {
			t.Fatal(err)
		}
		if _, resp, ok := Negotiate(offers, Config{}); !ok {
			t.Errorf("Negotiate declined ClientOffer(%+v)", tt.cfg)
		} else if _, ok, err := ParseResponse([]string{resp}, tt.cfg); !ok || err != nil {
			t.Errorf("ParseResponse(%q) = %v, %v", resp, ok, err)
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name     string
		rfc      string
		response []string
		cfg      Config
		want     Params
		ok       bool
	}{
		{"not accepted", "5", nil, Config{}, Params{}, false},
		{"empty header", "5", []string{""}, Config{}, Params{}, false},
		{"bare", "5", []string{"permessage-deflate"}, Config{}, Params{}, true},
		{"server_no_context_takeover unrequested", "7.1.1.1", []string{"permessage-deflate; server_no_context_takeover"}, Config{},
			Params{ServerNoContextTakeover: true}, true},
		{"server_no_context_takeover requested", "7.1.1.1", []string{"permessage-deflate; server_no_context_takeover"}, Config{ServerNoContextTakeover: true},
			Params{ServerNoContextTakeover: true}, true},
		{"client_no_context_takeover from the server", "7.1.1.2", []string{"permessage-deflate; client_no_context_takeover"}, Config{},
			Params{ClientNoContextTakeover: true}, true},
		{"client_no_context_takeover kept from our config", "7.1.1.2", []string{"permessage-deflate"}, Config{ClientNoContextTakeover: true},
			Params{ClientNoContextTakeover: true}, true},
		{"server_max_window_bits unrequested", "7.1.2.1", []string{"permessage-deflate; server_max_window_bits=12"}, Config{},
			Params{ServerMaxWindowBits: 12}, true},
		{"server_max_window_bits smaller than asked", "7.1.2.1", []string{"permessage-deflate; server_max_window_bits=9"}, Config{ServerMaxWindowBits: 10},
			Params{ServerMaxWindowBits: 9}, true},
		{"client_max_window_bits from the server", "7.1.2.2", []string{"permessage-deflate; client_max_window_bits=10"}, Config{},
			Params{ClientMaxWindowBits: 10}, true},
		{"client_max_window_bits: our smaller window kept", "7.1.2.2", []string{"permessage-deflate; client_max_window_bits=12"}, Config{ClientMaxWindowBits: 9},
			Params{ClientMaxWindowBits: 9}, true},
		{"quoted value", "7.1.2.2 and RFC 6455 9.1", []string{`permessage-deflate; client_max_window_bits="10"`}, Config{},
			Params{ClientMaxWindowBits: 10}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := ParseResponse(tt.response, tt.cfg)
			if err != nil || ok != tt.ok || p != tt.want {
				t.Fatalf("RFC 7692 section %s: ParseResponse(%q, %+v) = %+v, %v, %v; want %+v, %v",
					tt.rfc, tt.response, tt.cfg, p, ok, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseResponseFails(t *testing.T) {
	tests := []struct {
		name     string
		rfc      string
		response string
		cfg      Config
	}{
		{"malformed", "7.1", "permessage-deflate; =", Config{}},
		{"extension not offered", "RFC 6455 9.1", "x-foo", Config{}},
		{"extension not offered after ours", "RFC 6455 9.1", "permessage-deflate, x-foo", Config{}},
		{"accepted twice", "7.1", "permessage-deflate, permessage-deflate", Config{}},
		{"unknown parameter", "7.1", "permessage-deflate; foo", Config{}},
		{"duplicate parameter", "7.1", "permessage-deflate; client_no_context_takeover; client_no_context_takeover", Config{}},
		{"server_no_context_takeover with value", "7.1.1.1", "permessage-deflate; server_no_context_takeover=1", Config{}},
		{"client_no_context_takeover with value", "7.1.1.2", `permessage-deflate; client_no_context_takeover="x"`, Config{}},
		{"server_no_context_takeover not accepted", "7.1.1.1", "permessage-deflate", Config{ServerNoContextTakeover: true}},
		{"server_max_window_bits missing", "7.1.2.1", "permessage-deflate", Config{ServerMaxWindowBits: 10}},
		{"server_max_window_bits larger than asked", "7.1.2.1", "permessage-deflate; server_max_window_bits=11", Config{ServerMaxWindowBits: 10}},
		{"server_max_window_bits without value", "7.1.2.1", "permessage-deflate; server_max_window_bits", Config{}},
		{"server_max_window_bits 7", "7.1.2.1", "permessage-deflate; server_max_window_bits=7", Config{}},
		{"server_max_window_bits 16", "7.1.2.1", "permessage-deflate; server_max_window_bits=16", Config{}},
		{"client_max_window_bits without value", "7.1.2.2", "permessage-deflate; client_max_window_bits", Config{}},
		{"client_max_window_bits 7", "7.1.2.2", "permessage-deflate; client_max_window_bits=7", Config{}},
		{"client_max_window_bits leading zero", "7.1.2.2", "permessage-deflate; client_max_window_bits=09", Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := ParseResponse([]string{tt.response}, tt.cfg)
			if !errors.Is(err, ErrResponse) || ok {
				t.Fatalf("RFC 7692 section %s: ParseResponse(%q, %+v) = %+v, %v, %v; want ErrResponse",
					tt.rfc, tt.response, tt.cfg, p, ok, err)
			}
		})
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", false, false, 0, 0)
	f.Add("permessage-deflate; server_max_window_bits=10; client_max_window_bits=9, permessage-deflate", true, false, 12, 8)
	f.Add("permessage-deflate; server_no_context_takeover; client_no_context_takeover", false, true, 15, 15)
	f.Add("permessage-deflate; foo, x-bar; a=\"b\", permessage-deflate; client_max_window_bits", false, false, 3, 99)
	f.Fuzz(func(t *testing.T, offer string, snct, cnct bool, sbits, cbits int) {
		offers, err := ParseHeader([]string{offer})
		if err != nil {
			return
		}
		cfg := Config{snct, cnct, sbits, cbits}
		p, resp, ok := Negotiate(offers, cfg)
		if !ok {
			if resp != "" || p != (Params{}) {
				t.Fatalf("declined with %+v, %q", p, resp)
			}
			return
		}
		// The response re-parses, as a client offering anything would see it.
		again, err := ParseHeader([]string{resp})
		if err != nil || len(again) != 1 || again[0].Name != ExtensionName {
			t.Fatalf("response %q re-parses as %#v, %v", resp, again, err)
		}
		s, bad := readParams(again[0].Params, true)
		if bad != "" {
			t.Fatalf("response %q: %s", resp, bad)
		}
		if got := accept(s, Config{}); got != p {
			t.Fatalf("response %q reads back as %+v; negotiated %+v", resp, got, p)
		}
		for _, bits := range []int{p.ServerMaxWindowBits, p.ClientMaxWindowBits} {
			if bits != 0 && (bits < MinWindowBits || bits > MaxWindowBits) {
				t.Fatalf("window bits %d out of range in %+v", bits, p)
			}
		}
	})
}

// TestClientServerAgree runs our client's offer through our server for a
// grid of configurations: the client must accept every response, and each
// side's compressor must stay within what the other side's decompressor
// was told (RFC 7692 sections 7.1.1 and 7.1.2).
func TestClientServerAgree(t *testing.T) {
	var cfgs []Config
	for _, snct := range []bool{false, true} {
		for _, cnct := range []bool{false, true} {
			for _, sbits := range []int{0, 8, 9, 12, 15} {
				for _, cbits := range []int{0, 8, 11, 15} {
					cfgs = append(cfgs, Config{snct, cnct, sbits, cbits})
				}
			}
		}
	}
	for _, client := range cfgs {
		offers, err := ParseHeader([]string{ClientOffer(client)})
		if err != nil {
			t.Fatal(err)
		}
		for _, server := range cfgs {
			sp, resp, ok := Negotiate(offers, server)
			if !ok {
				t.Fatalf("server %+v declined %q", server, ClientOffer(client))
			}
			cp, ok, err := ParseResponse([]string{resp}, client)
			if err != nil || !ok {
				t.Fatalf("client %+v rejected %q: %v", client, resp, err)
			}
			for _, pair := range []struct {
				name     string
				out, in  Params
				outSrv   bool
				askedMax int // window the receiver asked for, 0 if none
			}{
				{"server to client", sp, cp, true, client.ServerMaxWindowBits},
				{"client to server", cp, sp, false, server.ClientMaxWindowBits},
			} {
				outNCT, outBits := pair.out.Out(pair.outSrv)
				inNCT, inBits := pair.in.In(!pair.outSrv)
				if inNCT && !outNCT {
					t.Errorf("client %+v, server %+v, %s: receiver drops its context but the sender keeps it", client, server, pair.name)
				}
				if outBits > inBits {
					t.Errorf("client %+v, server %+v, %s: sender window %d > receiver's %d", client, server, pair.name, outBits, inBits)
				}
				if pair.askedMax != 0 && outBits > windowOrMax(pair.askedMax) {
					t.Errorf("client %+v, server %+v, %s: sender window %d > %d asked", client, server, pair.name, outBits, pair.askedMax)
				}
			}
		}
	}
}
