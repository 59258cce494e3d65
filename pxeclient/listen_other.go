//go:build !linux

package pxeclient

import (
	"errors"
	"net"
)

// Listen opens a DHCP client socket on 0.0.0.0:68 and returns it as a
// [Conn]. Binding it to one interface needs Linux (SO_BINDTODEVICE);
// elsewhere iface must be empty. It needs the right to bind port 68.
func Listen(iface string) (*Conn, error) {
	if iface != "" {
		return nil, errors.New("pxeclient: binding to an interface needs Linux")
	}
	pc, err := net.ListenPacket("udp4", "0.0.0.0:68")
	if err != nil {
		return nil, err
	}
	return NewConn(pc), nil
}
