package hub_test

import (
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/hub"
)

// gatedBroker is a memoryBroker whose Subscribe to the topic "gate" waits
// until gate is closed, as a remote broker's may wait on the network.
type gatedBroker struct {
	memoryBroker
	entered, gate chan struct{}
}

func (b *gatedBroker) Subscribe(topic string, deliver func(hub.Message)) (func(), error) {
	if topic == "gate" {
		close(b.entered)
		<-b.gate
	}
	return b.memoryBroker.Subscribe(topic, deliver)
}

// TestLeavingSubscriberNotDropped makes a connection leave while another
// subscribes through a slow broker, which holds up the end of Leave, and
// publishes meanwhile: the leaving connection takes no more messages, so
// none is counted as queued for it, nor as dropped, for no queue was full
// (Stats.Dropped counts only those).
func TestLeavingSubscriberNotDropped(t *testing.T) {
	b := &gatedBroker{entered: make(chan struct{}), gate: make(chan struct{})}
	h := hub.New(&hub.Options{Overflow: hub.DropNewest, Broker: b})
	s := serve(t, h)
	_, sa := s.dial(t, "")
	cb, sb := s.dial(t, "")
	for _, c := range []*starling.Conn{sa, sb} {
		if err := h.Subscribe(c, "x"); err != nil {
			t.Fatal(err)
		}
	}
	// Should the test fail, the handlers' Leave must not wait for ever.
	release := sync.OnceFunc(func() { close(b.gate) })
	defer release()
	subscribed := make(chan error, 1)
	go func() { subscribed <- h.Subscribe(sb, "gate") }()
	<-b.entered
	left := make(chan struct{})
	go func() {
		h.Leave(sa)
		close(left)
	}()
	// Leave stops sa at once, then waits for Subscribe: from then on a
	// message is queued for sb alone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := h.Stats().Queued
		publish(t, h, "x", starling.MessageText, "m")
		expect(t, cb, starling.MessageText, "m")
		if h.Stats().Queued-before == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v: each message still counted as queued for the connection that left", h.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		publish(t, h, "x", starling.MessageText, "m")
		expect(t, cb, starling.MessageText, "m")
	}
	release()
	if err := <-subscribed; err != nil {
		t.Fatal(err)
	}
	<-left
	if st := h.Stats(); st.Dropped != 0 {
		t.Fatalf("Stats = %+v: copies counted as dropped, but no queue was full", st)
	}
}
