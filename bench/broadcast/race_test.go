//go:build race

package broadcast_test

func init() {
	// nbio's engine accepts on one goroutine and hands the connection to
	// its epoll goroutine through the kernel, a hand-off the race
	// detector cannot see: it reports a race inside nbio
	// (nbhttp/engine.go, listen, v1.6.8), not in this package. nbio is
	// tested without -race.
	raceSkip["nbio"] = "the race detector reports a race inside nbio's engine itself (see race_test.go)"
}
