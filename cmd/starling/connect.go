package main

import "context"

func connectCmd(ctx context.Context, args []string, s stdio) error {
	return usageErrorf("connect: not implemented yet")
}
