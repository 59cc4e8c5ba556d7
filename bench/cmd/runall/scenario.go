package main

import (
	"fmt"
	"log"
	"strings"
)

// scenario is one cell of the echo matrix.
type scenario struct {
	Conns  int `json:"conns"`
	Size   int `json:"size"`
	Window int `json:"window"`
}

func (s scenario) String() string {
	return fmt.Sprintf("%d conn × %s, window %d", s.Conns, sizeName(s.Size), s.Window)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// matrix returns the scenarios in priority order: 1 and 100 connections
// with the small sizes first, so that a run cut short still covers them.
// 1,000 connections × 1 MiB is left out: a GiB of messages in flight per
// server says more about the kernel than the library.
func matrix(name string) []scenario {
	if strings.Contains(name, "x") {
		return parseScenarios(name)
	}
	var out []scenario
	add := func(conns []int, sizes []int) {
		for _, c := range conns {
			for _, s := range sizes {
				for _, w := range []int{1, 16} {
					out = append(out, scenario{c, s, w})
				}
			}
		}
	}
	switch name {
	case "smoke":
		return []scenario{{1, 16, 1}, {100, 1 << 10, 16}}
	case "quick":
		add([]int{1, 100}, []int{16, 1 << 10, 16 << 10})
		return out
	}
	add([]int{1, 100}, []int{16, 1 << 10, 16 << 10})
	add([]int{1000}, []int{16, 1 << 10, 16 << 10})
	add([]int{1, 100}, []int{1 << 20})
	return out
}

// parseScenarios reads a list such as "1x16384x16,100x1024x1"
// (connections x size x window).
func parseScenarios(list string) []scenario {
	var out []scenario
	for _, f := range strings.Split(list, ",") {
		var s scenario
		if _, err := fmt.Sscanf(f, "%dx%dx%d", &s.Conns, &s.Size, &s.Window); err != nil {
			log.Fatalf("scenario %q: want CONNSxSIZExWINDOW: %v", f, err)
		}
		out = append(out, s)
	}
	return out
}
