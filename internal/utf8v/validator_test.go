package utf8v

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// couldBeValid reports whether p is a prefix of some valid UTF-8 text, the
// answer Write must give. A missing tail is at most 3 continuation bytes,
// and each range a continuation byte may need (Unicode table 3-7) holds
// one of 80, 90 and A0.
func couldBeValid(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	q := append(bytes.Clone(p), 0, 0, 0)
	for n := 1; n <= 3; n++ {
		for i := range 1 << (2 * n) {
			ok := true
			for k := range n {
				d := i >> (2 * k) & 3
				if d == 3 {
					ok = false
					break
				}
				q[len(p)+k] = 0x80 + 0x10*byte(d)
			}
			if ok && utf8.Valid(q[:len(p)+n]) {
				return true
			}
		}
	}
	return false
}

// checkPieces writes pieces one after another and checks each answer
// against couldBeValid and the end against unicode/utf8.Valid.
func checkPieces(t *testing.T, pieces ...[]byte) {
	t.Helper()
	var v Validator
	var all []byte
	want := true
	for _, p := range pieces {
		all = append(all, p...)
		want = want && couldBeValid(all) // no extension of invalid text is valid
		if got := v.Write(p); got != want {
			t.Fatalf("pieces %q: Write(%q) = %v, want %v", pieces, p, got, want)
		}
	}
	if got, want := v.Complete(), utf8.Valid(all); got != want {
		t.Fatalf("pieces %q: Complete() = %v, want %v", pieces, got, want)
	}
}

func TestValidatorSplits(t *testing.T) {
	for _, in := range testInputs() {
		checkPieces(t, in)
		for i := range len(in) + 1 {
			checkPieces(t, in[:i], in[i:])
			if len(in) > 24 {
				continue // three pieces: quadratic, short inputs suffice
			}
			for j := i; j <= len(in); j++ {
				checkPieces(t, in[:i], in[i:j], in[j:])
			}
		}
	}
}

func TestValidatorByteAtATime(t *testing.T) {
	for _, in := range testInputs() {
		pieces := make([][]byte, len(in))
		for i := range in {
			pieces[i] = in[i : i+1]
		}
		checkPieces(t, pieces...)
	}
}

// TestValidatorEdges writes every 3-byte combination of edge bytes, after
// ASCII and after a pending lead byte, one byte at a time.
func TestValidatorEdges(t *testing.T) {
	n := len(edgeBytes)
	for _, pre := range []string{"", "a", "\xe2", "\xf0\x9f"} {
		for i := range n * n * n {
			b := []byte{edgeBytes[i%n], edgeBytes[i/n%n], edgeBytes[i/n/n]}
			checkPieces(t, []byte(pre), b[:1], b[1:2], b[2:])
		}
	}
}

// TestValidatorEarlyFailure checks the cases where a sequence is known to
// be invalid before it is complete.
func TestValidatorEarlyFailure(t *testing.T) {
	tests := []struct {
		name    string
		ok, bad string // bad fails when written after ok
	}{
		{"above U+10FFFF", "\xf4", "\x90"},
		{"surrogate", "\xed", "\xa0"},
		{"overlong 3-byte", "\xe0", "\x80"},
		{"overlong 4-byte", "\xf0", "\x8f"},
		{"C0", "", "\xc0"},
		{"C1", "abc", "\xc1"},
		{"F5", "", "\xf5"},
		{"FF", "", "\xff"},
		{"stray continuation", "a", "\x80"},
		{"lead byte cut short", "\xe2\x82", "a"},
		{"valid text, then", "κόσμε", "\xed\xbf\xbf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Validator
			if !v.Write([]byte(tt.ok)) {
				t.Fatalf("Write(%q) = false, want true", tt.ok)
			}
			if v.Write([]byte(tt.bad)) {
				t.Fatalf("Write(%q) after %q = true, want false", tt.bad, tt.ok)
			}
			if v.Write([]byte("valid")) || v.Complete() {
				t.Fatal("Validator accepted text after a failure")
			}
			v.Reset()
			if !v.Write([]byte("valid")) || !v.Complete() {
				t.Fatal("Validator did not accept valid text after Reset")
			}
			var w Validator
			if w.Write([]byte(tt.ok + tt.bad)) {
				t.Fatalf("Write(%q) in one piece = true, want false", tt.ok+tt.bad)
			}
		})
	}
}

func TestValidatorComplete(t *testing.T) {
	var v Validator
	if !v.Complete() {
		t.Fatal("zero Validator is not Complete")
	}
	for _, p := range []string{"\xe2", "\x82"} {
		if !v.Write([]byte(p)) || v.Complete() {
			t.Fatalf("after %q: Write false or Complete true inside a character", p)
		}
	}
	if !v.Write([]byte("\xac")) || !v.Complete() {
		t.Fatal("E2 82 AC (€) written in pieces is not Complete")
	}
}

func FuzzValidator(f *testing.F) {
	f.Add([]byte("Hello, мир! 你好世界 😀"), []byte{3, 1, 4})
	f.Add([]byte("\xf4\x90\x80\x80"), []byte{1})
	f.Add([]byte("\xed\xa0\x80"), []byte{1, 1})
	f.Add([]byte("\xe0\x80\x80"), []byte{1})
	f.Add([]byte("abc\xc0\x80"), []byte{2})
	f.Add([]byte("\xf0\x9f\x98\x80abcdefghijklmnopqrstuvwxyz0123456789"), []byte{2, 20})
	f.Add([]byte("\xe2\x82"), []byte{})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if got, want := Valid(data), utf8.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, want %v", data, got, want)
		}
		var pieces [][]byte
		rest := data
		for _, c := range cuts {
			i := int(c) % (len(rest) + 1)
			pieces = append(pieces, rest[:i])
			rest = rest[i:]
		}
		checkPieces(t, append(pieces, rest)...)
	})
}
