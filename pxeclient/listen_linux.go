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
// returns it as a [Conn]. Its receive buffer is [ListenBuffer] bytes when
// the process may set that (CAP_NET_ADMIN), else as close to it as
// net.core.rmem_max allows. It needs the right to bind port 68.
func Listen(iface string) (*Conn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = clientSockopts(int(fd), iface) })
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:68")
	if err != nil {
		return nil, err
	}
	return NewConn(pc), nil
}

// clientSockopts sets the options of Listen's socket on fd.
func clientSockopts(fd int, iface string) error {
	if err := errors.Join(
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)); err != nil {
		return err
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ListenBuffer) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, ListenBuffer)
	}
	if iface != "" {
		return unix.BindToDevice(fd, iface)
	}
	return nil
}
