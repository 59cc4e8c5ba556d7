package wsflate

import (
	"fmt"
	"math/rand/v2"
)

// jsonMessages returns n deterministic JSON-like messages of about size
// bytes each, in the style of chatty application traffic: repeated keys,
// a few varying values.
func jsonMessages(n, size int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	kinds := []string{"update", "presence", "message", "typing", "ack"}
	msgs := make([][]byte, n)
	for i := range msgs {
		b := []byte(`{"events":[`)
		for j := 0; len(b) < size-80; j++ {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"id":%d,"type":%q,"user":%q,"ts":%d,"score":%.3f,"ok":%t}`,
				r.IntN(1e6), kinds[r.IntN(len(kinds))], users[r.IntN(len(users))],
				1764000000000+r.Int64N(1e6), r.Float64()*100, r.IntN(2) == 0)
		}
		b = fmt.Appendf(b, `],"seq":%d}`, i)
		msgs[i] = b
	}
	return msgs
}
