// Package sysio reads and writes sockets with bare system calls that never
// wait, for the callbacks of a syscall.RawConn.
//
// On Linux it makes the calls without telling the Go scheduler, as the
// runtime's own network poller does: a call that is told not to wait
// never does, so the scheduler's bookkeeping for a call that might buys
// nothing, and costs much. The scheduler's monitor takes the processor
// back from a goroutine that has spent more than one of its ticks (20 µs
// and up) in a system call, and hands it to another thread to run or to
// poll the network; a loopback write of a small message takes about that
// long, so a server with one processor (GOMAXPROCS=1, or all processors
// busy) woke a second thread for nearly every message it wrote. Echoing
// 16 B to 16 KiB messages over one connection, a Starling server spends
// 25–32 % less CPU per message without it (bench/cmd/loadgen, before and
// after); with hundreds of connections, about as much as with it.
//
// The price is that a call holds its processor until it returns, and a
// stop of the world waits for it: a call is bounded by the socket's
// buffer, tens of microseconds for a small write, about a millisecond for
// a multi-megabyte one.
//
// The calls ask the kernel not to wait (MSG_DONTWAIT), whether or not the
// socket is non-blocking: something else may have made it blocking (see
// sysio_linux.go). Under the race detector they are the same calls, and
// tell the detector what the syscall package's Read and Write would: that
// a write to a socket happens before a read of what it wrote (race.go).
// Elsewhere (other Unix systems, and linux/386) they are the syscall
// package's Read and Write, on a descriptor that must stay non-blocking,
// as net.Conn's deadlines need it to.
package sysio
