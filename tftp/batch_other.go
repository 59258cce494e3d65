//go:build !linux

package tftp

import "net"

// newBatchWriter: without sendmmsg(2), windows are sent one packet at a
// time.
func newBatchWriter(*net.UDPConn) batchWriter { return nil }
