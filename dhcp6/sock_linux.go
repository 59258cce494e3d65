//go:build linux

package dhcp6

import (
	"context"
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listen opens a udp6 socket with SO_REUSEADDR, bound to dev when set.
func listen(addr, dev string) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if dev != "" && serr == nil {
				serr = unix.BindToDevice(int(fd), dev)
			}
		})
		return errors.Join(err, serr)
	}}
	return lc.ListenPacket(context.Background(), "udp6", addr)
}

// ifIndexOf asks the kernel, through the socket (so in the socket's
// network namespace), for the index of interface name; 0 when unknown.
func ifIndexOf(conn net.PacketConn, name string) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return fallbackIndex(name)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fallbackIndex(name)
	}
	idx := 0
	_ = rc.Control(func(fd uintptr) {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return
		}
		if unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr) == nil {
			idx = int(ifr.Uint32())
		}
	})
	if idx == 0 {
		return fallbackIndex(name)
	}
	return idx
}

func fallbackIndex(name string) int {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0
	}
	return ifi.Index
}
