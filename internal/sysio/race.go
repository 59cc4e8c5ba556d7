//go:build race && linux && !386

package sysio

import "sync/atomic"

// ioSync tells the race detector what bare system calls do not: that a
// write to a socket happens before a read of what it wrote, anywhere in
// the process (a test's client and server, say). It is what the syscall
// package's Read and Write do with a variable of their own; atomic
// operations are synchronizing events for the detector.
var ioSync atomic.Uint64

// released is called before a write.
func released() { ioSync.Add(1) }

// acquired is called after a read.
func acquired() { ioSync.Load() }
