//go:build race

package wsflate

// raceEnabled reports a -race build, in which sync.Pool drops a share of
// what is put in it on purpose, so pooled memory cannot be measured.
const raceEnabled = true
