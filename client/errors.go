package client

import "errors"

var (
	// ErrQueueFull is returned by a write that would take the bytes queued
	// and not yet written over Options.MaxQueuedBytes.
	ErrQueueFull = errors.New("client: write queue full")
	// ErrNotConnected is returned by a write when the client is neither
	// connecting nor connected, or is disconnecting.
	ErrNotConnected = errors.New("client: not connected")
	// ErrDisconnected is passed to the done function of a write that was
	// still queued when its connection ended.
	ErrDisconnected = errors.New("client: disconnected before the frame was written")
	// ErrHeartbeatTimeout is reported in an Error event when the client
	// dropped a connection that stayed unviable, in order to reconnect.
	ErrHeartbeatTimeout = errors.New("client: connection unviable for too long")
)
