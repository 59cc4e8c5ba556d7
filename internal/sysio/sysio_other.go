//go:build !unix

package sysio

import "syscall"

// Read is not supported here: there is no non-blocking descriptor to read.
func Read(fd uintptr, p []byte) (int, error) { return 0, syscall.EINVAL }

// Write is not supported here: there is no non-blocking descriptor to write.
func Write(fd uintptr, a, b []byte) (int, error) { return 0, syscall.EINVAL }
