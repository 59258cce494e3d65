//go:build !linux

package tftp

import (
	"net"
	"time"
)

// spinReader is Linux-only; elsewhere a transfer always sleeps in the
// network poller.
type spinReader struct{}

func newSpinReader(*net.UDPConn) *spinReader { return nil }

func (*spinReader) read([]byte, time.Duration) (int, error) { panic("unreachable") }

func (*spinReader) exchange(_, _ []byte, _ time.Duration, _ bool) (int, bool, error, error) {
	panic("unreachable")
}
