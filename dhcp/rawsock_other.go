//go:build !linux || 386

package dhcp

import (
	"net"
	"net/netip"
)

// rawSock is Linux's raw datagram path; elsewhere (and on 386, where
// recvmsg is a socketcall) there is none: net.UDPConn's is used.
type rawSock struct{}

func newRawSock(*net.UDPConn) *rawSock { return nil }

func (*rawSock) recvmsg(b, oob []byte) (int, int, netip.AddrPort, error) {
	return 0, 0, netip.AddrPort{}, errNoServer
}

func (*rawSock) sendmsg(b, oob []byte, dst netip.AddrPort) error { return errNoServer }
