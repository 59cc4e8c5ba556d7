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
	"github.com/starling-ws/starling/hub"
)

// Quote is one simulated price, sent on /ticker as a JSON text message.
type Quote struct {
	Type   string    `json:"type"` // always "quote"
	Symbol string    `json:"symbol"`
	Price  float64   `json:"price"`
	Change float64   `json:"change"` // since the previous quote, in percent
	Time   time.Time `json:"time"`
}

// tickerTopic is the hub topic of the quotes.
const tickerTopic = "quotes"

// subscriberQueue is how many quotes may wait for a subscriber; when it is
// full, new quotes for it are dropped, since a fresher one follows soon.
const subscriberQueue = 64

// Feed generates quotes by a random walk and publishes them on its hub.
type Feed struct {
	hub    *hub.Hub
	mu     sync.Mutex
	prices map[string]float64
}

// symbols are the simulated instruments and their opening prices.
var symbols = []struct {
	name  string
	price float64
}{{"STAR", 142.50}, {"GOPH", 88.20}, {"SOCK", 23.75}, {"FRAM", 311.00}}

// NewFeed returns a feed at its opening prices, which publishes on h.
func NewFeed(h *hub.Hub) *Feed {
	f := &Feed{hub: h, prices: make(map[string]float64)}
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
				p, _ := json.Marshal(f.step(s.name, now)) // a Quote always marshals
				// Publish fails only on invalid text or a closed hub.
				_ = f.hub.Publish(ctx, tickerTopic, starling.MessageText, p)
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

// serveTicker subscribes the connection to the quotes until it ends. It
// reads, so that pings are answered and the close frame is seen; anything
// the subscriber sends is ignored.
func (s *Server) serveTicker(c *starling.Conn, _ *http.Request) error {
	defer s.feed.hub.Leave(c)
	if err := s.feed.hub.Subscribe(c, tickerTopic); err != nil {
		return err
	}
	for {
		if _, _, err := c.Read(context.Background()); err != nil {
			return err
		}
	}
}
