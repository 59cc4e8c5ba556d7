package broadcast

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Workers is the number of goroutines every server writes a broadcast
// with. Each writes to one contiguous share of the connections in order,
// so a connection whose socket buffer is full delays only its share, and
// a broadcast costs Workers goroutine starts whatever the number of
// connections. It is the same for every implementation, so that the
// measurements compare the libraries' writes, not fan-out strategies.
const Workers = 16

// fanOut writes m to every connection in conns and returns the first
// error with the number of failed writes.
func fanOut(ctx context.Context, conns []any, m message) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		failed int
	)
	share := (len(conns) + Workers - 1) / Workers
	for lo := 0; lo < len(conns); lo += share {
		part := conns[lo:min(lo+share, len(conns))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range part {
				if err := m.writeTo(ctx, c); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("broadcast: %d of %d writes failed: %w", failed, len(conns), first)
	}
	return ctx.Err()
}

// errUnexpected reports a connection of another implementation handed to
// writeTo, which would be a bug in this package.
var errUnexpected = errors.New("broadcast: connection of another implementation")
