package main

import "context"

func benchCmd(ctx context.Context, args []string, s stdio) error {
	return usageErrorf("bench: not implemented yet")
}
