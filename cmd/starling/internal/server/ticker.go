package server

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/starling-ws/starling"
)

// Quote is one simulated price, sent on /ticker as a JSON text message.
type Quote struct {
	Type   string    `json:"type"` // always "quote"
	Symbol string    `json:"symbol"`
	Price  float64   `json:"price"`
	Change float64   `json:"change"` // since the previous quote, in percent
	Time   time.Time `json:"time"`
}

// subscriberQueue is how many quotes may wait for a subscriber; when it is
// full, new quotes for it are dropped, since a fresher one follows soon.
const subscriberQueue = 64

// Feed generates quotes by a random walk and fans them out to subscribers.
type Feed struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	prices map[string]float64
}

// symbols are the simulated instruments and their opening prices.
var symbols = []struct {
	name  string
	price float64
}{{"STAR", 142.50}, {"GOPH", 88.20}, {"SOCK", 23.75}, {"FRAM", 311.00}}

// NewFeed returns a feed at its opening prices.
func NewFeed() *Feed {
	f := &Feed{subs: make(map[chan []byte]struct{}), prices: make(map[string]float64)}
	for _, s := range symbols {
		f.prices[s.name] = s.price
	}
	return f
}

// Run publishes one quote per symbol every interval until ctx ends.
func (f *Feed) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, s := range symbols {
				f.publish(f.step(s.name, now))
			}
		}
	}
}

// step moves a price by a small random walk, at most 1% a step.
func (f *Feed) step(symbol string, now time.Time) Quote {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.prices[symbol]
	p := math.Round(old*(1+(rand.Float64()-0.5)*0.02)*100) / 100
	f.prices[symbol] = p
	change := math.Round((p-old)/old*10000) / 100
	return Quote{Type: "quote", Symbol: symbol, Price: p, Change: change, Time: now.UTC()}
}

func (f *Feed) publish(q Quote) {
	p, _ := json.Marshal(q) // a Quote always marshals
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- p:
		default:
		}
	}
}

// Subscribe returns a channel of quotes and a function that ends the
// subscription.
func (f *Feed) Subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, subscriberQueue)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

// serveTicker pushes quotes to the connection until it ends. A goroutine
// keeps reading so that pings are answered and the close frame is seen;
// anything the subscriber sends is ignored.
func (s *Server) serveTicker(c *starling.Conn, _ *http.Request) error {
	quotes, cancel := s.feed.Subscribe()
	defer cancel()
	ctx := context.Background()
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for {
		select {
		case err := <-readErr:
			return err
		case p := <-quotes:
			if err := c.Write(ctx, starling.MessageText, p); err != nil {
				_ = c.CloseNow()
				return <-readErr
			}
		}
	}
}
