package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestServeBadOriginPattern checks that an --origin pattern that path.Match
// cannot parse is a usage error at start, rather than a server that
// silently refuses every page the user meant to allow.
func TestServeBadOriginPattern(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--origin", "[a-", "--origin", "ok.example"}, stdio{strings.NewReader(""), &out, &errb})
	want := "starling: --origin \"[a-\" is not a valid pattern: syntax error in pattern\n"
	if code != 2 || errb.String() != want {
		t.Fatalf("exit %d, stderr %q; want 2, %q", code, errb.String(), want)
	}
}
