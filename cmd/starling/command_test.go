package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/starling-ws/starling"
)

func TestParseClose(t *testing.T) {
	for _, tc := range []struct {
		arg    string
		code   starling.StatusCode
		reason string
		ok     bool
	}{
		{"", 1000, "", true},
		{"4000 bye", 4000, "bye", true},
		{"1001", 1001, "", true},
		{"3000 two words ", 3000, "two words", true},
		{"1005", 0, "", false}, // never sent on the wire (RFC 6455 section 7.4.1)
		{"1006 x", 0, "", false},
		{"999", 0, "", false},
		{"5000", 0, "", false},
		{"bye", 0, "", false},
		{"1000 " + strings.Repeat("r", 124), 0, "", false},
	} {
		code, reason, err := parseClose(tc.arg)
		if (err == nil) != tc.ok || code != tc.code || reason != tc.reason {
			t.Errorf("parseClose(%q) = %d, %q, %v; want %d, %q, ok=%v", tc.arg, code, reason, err, tc.code, tc.reason, tc.ok)
		}
	}
}

// FuzzParseClose checks that whatever is typed after /close, an accepted
// code may be sent and the reason fits a close frame.
func FuzzParseClose(f *testing.F) {
	for _, s := range []string{"", "4000 bye", "1000", "1005", "65536", "-1", "4000 " + strings.Repeat("é", 70), "1000  ", "0x3e8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		code, reason, err := parseClose(arg)
		if err != nil {
			return
		}
		sendable := code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
		if !sendable || len(reason) > 123 || strings.TrimSpace(reason) != reason {
			t.Fatalf("parseClose(%q) accepted code %d, reason %q", arg, code, reason)
		}
		if utf8.ValidString(arg) && !utf8.ValidString(reason) {
			t.Fatalf("parseClose(%q) broke UTF-8: %q", arg, reason)
		}
	})
}

// FuzzHeaderFlag checks that a -H value is either refused or becomes one
// header whose name and value are trimmed.
func FuzzHeaderFlag(f *testing.F) {
	for _, s := range []string{"X-Test: 1", "Authorization: Bearer a:b", "no colon", ": empty name", "Name:", " A : b ", "X: a\r\nEvil: b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, kv string) {
		d := dialFlags{headers: stringList{kv}}
		h, err := d.header()
		if err != nil {
			return
		}
		if len(h) != 1 {
			t.Fatalf("-H %q gave %d headers", kv, len(h))
		}
		for name, values := range h {
			if strings.TrimSpace(name) == "" || len(values) != 1 || strings.TrimSpace(values[0]) != values[0] ||
				strings.ContainsAny(name+values[0], "\r\n") {
				t.Fatalf("-H %q gave %q: %q", kv, name, values)
			}
		}
	})
}
