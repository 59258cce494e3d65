//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// setAddr adds (add) or removes an IPv4 address on the interface through
// rtnetlink, as "ip addr replace|del ADDR/LEN dev IFACE" does, without a
// process per address: a storm of a thousand machines adds a thousand
// addresses while it runs, and an exec of ip(8) each, one at a time, took
// longer than the machines' boots.
func setAddr(iface string, a netip.Prefix, add bool) error {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	if !a.Addr().Is4() {
		return fmt.Errorf("%s: not IPv4", a)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	// nlmsghdr (16 bytes), ifaddrmsg (8), IFA_LOCAL and IFA_ADDRESS
	// attributes (8 each).
	msg := make([]byte, 16+8+8+8)
	typ, flags := uint16(unix.RTM_NEWADDR), uint16(unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_REPLACE)
	if !add {
		typ, flags = unix.RTM_DELADDR, unix.NLM_F_REQUEST|unix.NLM_F_ACK
	}
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], typ)
	ne.PutUint16(msg[6:], flags)
	ne.PutUint32(msg[8:], 1) // sequence number
	msg[16] = unix.AF_INET
	msg[17] = byte(a.Bits())
	ne.PutUint32(msg[20:], uint32(ifi.Index))
	ip := a.Addr().As4()
	for i, t := range []uint16{unix.IFA_LOCAL, unix.IFA_ADDRESS} {
		at := msg[24+8*i:]
		ne.PutUint16(at[0:], 8)
		ne.PutUint16(at[2:], t)
		copy(at[4:8], ip[:])
	}
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		for b := buf[:n]; len(b) >= 16; {
			l := int(ne.Uint32(b))
			if l < 16 || l > len(b) {
				return fmt.Errorf("netlink: bad message length %d", l)
			}
			if ne.Uint16(b[4:]) == unix.NLMSG_ERROR && l >= 20 {
				if e := int32(ne.Uint32(b[16:])); e != 0 {
					return syscall.Errno(-e)
				}
				return nil // the acknowledgement
			}
			b = b[(l+3)&^3:]
		}
	}
}
