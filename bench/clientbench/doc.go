// Package clientbench holds testing.B benchmarks of each library's client:
// one write and the read of its echo per op. The echo server runs in a
// separate process (the test binary re-executed), so B/op and allocs/op
// count only the client.
package clientbench
