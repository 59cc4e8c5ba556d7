//go:build !linux

package echo

import "net"

// floorSock is the floor's socket: elsewhere than on Linux, net.Conn's
// Read and Write.
type floorSock struct{ nc net.Conn }

func newFloorSock(nc net.Conn) (*floorSock, error) { return &floorSock{nc}, nil }

// Read reads into p, waiting for data.
func (s *floorSock) Read(p []byte) (int, error) { return s.nc.Read(p) }

// Writev writes bufs, waiting while the socket's buffer is full.
func (s *floorSock) Writev(bufs [][]byte) error {
	b := net.Buffers(bufs)
	_, err := b.WriteTo(s.nc)
	return err
}
