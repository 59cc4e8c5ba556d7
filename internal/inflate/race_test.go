//go:build race

package inflate

// raceEnabled reports a -race build, in which sync.Pool drops a share of
// what is put in it on purpose, so allocations cannot be counted.
const raceEnabled = true
