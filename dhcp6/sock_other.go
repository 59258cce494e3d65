//go:build !linux

package dhcp6

import "net"

// listen opens a udp6 socket; dev is served through Server.Interface's
// filter only (no SO_BINDTODEVICE here).
func listen(addr, _ string) (net.PacketConn, error) {
	return net.ListenPacket("udp6", addr)
}

func ifIndexOf(_ net.PacketConn, name string) int {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0
	}
	return ifi.Index
}
