package pxeclient

import (
	"context"
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen opens a DHCP client socket on 0.0.0.0:68 with SO_BROADCAST and
// SO_REUSEADDR, bound to the interface iface when it is not empty, and
// returns it as a [Conn]. It needs the right to bind port 68.
func Listen(iface string) (*Conn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1))
			if iface != "" && serr == nil {
				serr = unix.BindToDevice(int(fd), iface)
			}
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:68")
	if err != nil {
		return nil, err
	}
	return NewConn(pc), nil
}
