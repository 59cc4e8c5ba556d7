//go:build !race

package starling_test

const raceEnabled = false
