package broadcast

import (
	"fmt"
	"strings"
)

// words make the payload look like the text a broadcast usually carries
// (JSON with repeated keys), so that compression ratios are realistic:
// neither random bytes nor one repeated byte.
var words = strings.Fields(`{"type":"tick", "symbol":"STRL", "price":1032.25,
	"volume":18, "bid":1032.20, "ask":1032.30, "venue":"XNAS", "seq":
	"trade", "quote", "news", "headline":"Starling ships broadcast",
	"source":"wire", "tags":["ws","go","bench"], "ok":true, "user":
	"alice", "bob", "carol", "room":"lobby", "text":"hello everyone"}`)

// Payload returns message k of size bytes: ASCII text that starts with k
// and differs from one k to the next, so a client can tell messages apart.
func Payload(k, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "{\"k\":%d,", k)
	x := uint32(k)*2654435761 + 1
	for b.Len() < size {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteString(words[x%uint32(len(words))])
		b.WriteByte(' ')
	}
	return []byte(b.String()[:size])
}
