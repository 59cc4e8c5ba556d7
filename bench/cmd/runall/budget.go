package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// writeBudgetFile reads the raw runs a report was made from (the -raw
// file) and writes their budget table (see writeBudget).
func writeBudgetFile(w io.Writer, rawFile string, impls []string) error {
	b, err := os.ReadFile(rawFile)
	if err != nil {
		return err
	}
	var raw struct {
		Runs []run `json:"runs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%s: %v", rawFile, err)
	}
	r := &report{runs: raw.Runs, o: options{impls: impls}}
	for _, x := range raw.Runs {
		if !slices.Contains(r.scenarios, x.Scenario) {
			r.scenarios = append(r.scenarios, x.Scenario)
		}
	}
	r.writeBudget(w)
	return nil
}

// writeBudget writes, per scenario, how much user-space CPU time per
// message the echo target (target times the best anchor's msgs per server
// CPU-s) leaves a library whose kernel time per message is the least that
// any server in the run needed: the budget. Where the budget is below the
// floor's own user time, a library would have to do less in user space
// than an echo that checks nothing, and be as frugal in the kernel as the
// most frugal server, to meet the target there.
func (r *report) writeBudget(w io.Writer) {
	me := r.o.impls[0]
	fmt.Fprintf(w, "| scenario | target µs/msg | least kernel µs/msg | user budget µs/msg | floor user µs/msg | %s user µs/msg |\n|---|---|---|---|---|---|\n", me)
	var met, scenarios, belowFloor, overBudget int
	for _, sc := range r.scenarios {
		_, best := r.best(sc, func(s stats) float64 { return s.perCPU })
		most := 0.0 // the highest msgs per kernel CPU-s of any server
		for _, impl := range r.o.impls {
			most = max(most, r.stats(sc, impl).perKernelCPU)
		}
		if best == 0 || most == 0 {
			continue
		}
		allowed, kernel := 1e6/(target*best), 1e6/most
		fl, mine := r.stats(sc, floor), r.stats(sc, me)
		fmt.Fprintf(w, "| %v | %.2f | %.2f | %.2f | %s | %s |\n", sc, allowed, kernel, allowed-kernel,
			userPerMsg(fl), userPerMsg(mine))
		scenarios++
		switch budget := allowed - kernel; {
		case mine.perCPU >= target*best:
			met++
		case fl.perCPU > 0 && budget < userTime(fl):
			belowFloor++
		case mine.perCPU > 0 && userTime(mine) > budget:
			overBudget++
		}
	}
	fmt.Fprintf(w, "\n%s met the target in %d of %d scenarios. Of the %d it missed, %d leave a user budget below the floor's user time; "+
		"in the other %d, %s's user time was above the budget in %d and within it in %d (there its kernel time is the gap).\n",
		me, met, scenarios, scenarios-met, belowFloor, scenarios-met-belowFloor, me, overBudget, scenarios-met-belowFloor-overBudget)
}

// userTime is the user-space CPU time per message, in µs, of a server
// with stats s, which must have a rate.
func userTime(s stats) float64 { return (1 - s.kernel) * 1e6 / s.perCPU }

// userPerMsg is the user-space CPU time per message, in µs, of a server
// with stats s.
func userPerMsg(s stats) string {
	if s.perCPU == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", userTime(s))
}
