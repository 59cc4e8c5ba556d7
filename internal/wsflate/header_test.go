package wsflate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	pmd := func(params ...Param) Offer { return Offer{Name: ExtensionName, Params: params} }
	flag := func(name string) Param { return Param{Name: name} }
	val := func(name, v string) Param { return Param{Name: name, Value: v, HasValue: true} }
	tests := []struct {
		name   string
		values []string
		want   []Offer
	}{
		{"empty", []string{""}, nil},
		{"only whitespace and commas", []string{" , ,\t"}, nil},
		{"bare", []string{"permessage-deflate"}, []Offer{pmd()}},
		{"browser offer", []string{"permessage-deflate; client_max_window_bits"},
			[]Offer{pmd(flag("client_max_window_bits"))}},
		{"no spaces", []string{"permessage-deflate;server_max_window_bits=10;client_no_context_takeover"},
			[]Offer{pmd(val("server_max_window_bits", "10"), flag("client_no_context_takeover"))}},
		{"spaces around separators", []string{" permessage-deflate ;\tserver_max_window_bits = 10 , x-foo "},
			[]Offer{pmd(val("server_max_window_bits", "10")), {Name: "x-foo"}}},
		{"quoted value", []string{`permessage-deflate; server_max_window_bits="10"`},
			[]Offer{pmd(val("server_max_window_bits", "10"))}},
		{"quoted-pair", []string{`permessage-deflate; server_max_window_bits="1\0"`},
			[]Offer{pmd(val("server_max_window_bits", "10"))}},
		{"several offers", []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"},
			[]Offer{pmd(val("server_max_window_bits", "10")), pmd()}},
		{"several field lines", []string{"x-foo; a=b", "permessage-deflate"},
			[]Offer{{Name: "x-foo", Params: []Param{val("a", "b")}}, pmd()}},
		{"empty list elements", []string{",permessage-deflate,,x-bar,"},
			[]Offer{pmd(), {Name: "x-bar"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.values)
			if err != nil {
				t.Fatalf("ParseHeader(%q): %v", tt.values, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseHeader(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	for _, v := range []string{
		";",
		"permessage-deflate;",
		"permessage-deflate; ;a",
		"permessage-deflate; =1",
		"permessage-deflate; a=",
		"permessage-deflate; a= ,",
		"permessage-deflate x",
		"permessage-deflate; a b",
		`permessage-deflate; a="1`,
		`permessage-deflate; a="1\`,
		`permessage-deflate; a=""`,
		`permessage-deflate; a="1 0"`,
		`permessage-deflate; a="1,0"`,
		`permessage-deflate; a="1"x`,
		"permessage-deflate; a=(1)",
		"permessage-deflate; a=1=2",
		"perm\x00essage-deflate",
		"permessage-deflate; a=\xff",
		`"permessage-deflate"`,
	} {
		offers, err := ParseHeader([]string{"x-ok", v})
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseHeader(%q) = %#v, %v; want ErrSyntax", v, offers, err)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=10; client_max_window_bits=\"9\", permessage-deflate",
		"permessage-deflate;server_no_context_takeover;client_no_context_takeover",
		` x-foo ; a = "b\"c" ,, y`,
		"permessage-deflate; a=\"",
		",;=\"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		offers, err := ParseHeader([]string{s})
		if err != nil {
			if offers != nil {
				t.Fatalf("offers %#v returned with error %v", offers, err)
			}
			return
		}
		// Every accepted header re-serializes to one that parses the same.
		var parts []string
		for _, o := range offers {
			if !IsToken(o.Name) {
				t.Fatalf("extension name %q is not a token", o.Name)
			}
			part := o.Name
			for _, p := range o.Params {
				if !IsToken(p.Name) || p.HasValue && !IsToken(p.Value) || !p.HasValue && p.Value != "" {
					t.Fatalf("bad param %#v", p)
				}
				part += ";" + p.Name
				if p.HasValue {
					part += "=" + p.Value
				}
			}
			parts = append(parts, part)
		}
		again, err := ParseHeader([]string{strings.Join(parts, ",")})
		if err != nil || !reflect.DeepEqual(again, offers) {
			t.Fatalf("re-parse of %q: %#v, %v; want %#v", parts, again, err, offers)
		}
	})
}
