package deflate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

var sizes = []int{1 << 10, 16 << 10, 256 << 10}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

var (
	words  = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}
	events = []string{"login", "logout", "click", "view", "purchase", "update", "delete", "share"}
	cities = []string{"Lisbon", "Osaka", "Nairobi", "Lima", "Oslo", "Perth", "Quito", "Dakar"}
)

// payload returns n bytes of JSON-like text, an array of event records
// cut at n bytes, the same for the same seed: repetitive keys and
// vocabulary with varying numbers, like the chat and telemetry traffic
// compression is used for.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, 0, n+512)
	b = append(b, '[')
	for len(b) < n {
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, r.Uint64N(1e9), 10)
		b = append(b, `,"user":"user-`...)
		b = strconv.AppendUint(b, r.Uint64N(5000), 10)
		b = append(b, `","event":"`...)
		b = append(b, events[r.IntN(len(events))]...)
		b = append(b, `","city":"`...)
		b = append(b, cities[r.IntN(len(cities))]...)
		b = append(b, `","ts":`...)
		b = strconv.AppendUint(b, 1764000000000+r.Uint64N(1e8), 10)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, r.Float64()*100, 'f', 3, 64)
		b = append(b, `,"text":"`...)
		for i := range 3 + r.IntN(8) {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, words[r.IntN(len(words))]...)
		}
		b = append(b, `"},`...)
	}
	return b[:n]
}

// messages returns distinct payloads of size n, enough that one cycle
// through them is at least 64 KiB: twice the deflate window, so that with
// context takeover the window at the start of each cycle holds only the
// previous cycle (see receiveStream).
func messages(n int) [][]byte {
	k := max(8, (64<<10+n-1)/n)
	msgs := make([][]byte, k)
	for i := range msgs {
		msgs[i] = payload(n, uint64(n)<<20|uint64(i))
	}
	return msgs
}
