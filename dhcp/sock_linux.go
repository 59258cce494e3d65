//go:build linux

package dhcp

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The Linux socket interface the server relies on: SO_BINDTODEVICE,
// SO_RCVBUFFORCE, SIOCGIFNAME and IP_PKTINFO in both directions.

// serverSupported: Serve and ListenAndServe work on this system.
const serverSupported = true

// rcvBuf is the receive buffer asked for a listening socket.
const rcvBuf = 4 << 20

// setSockopts readies a listening socket for DHCP: address reuse,
// broadcast allowed, a large receive buffer, bound to iface when set.
func setSockopts(fd uintptr, iface string) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		return err
	}
	// A boot storm arrives in bursts: a large receive buffer rides them
	// out (SO_RCVBUFFORCE passes rmem_max as root).
	if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
	if iface != "" {
		return unix.BindToDevice(int(fd), iface)
	}
	return nil
}

// setBroadcast allows sending to broadcast addresses on a socket.
func setBroadcast(fd uintptr) {
	_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
}

// socketIfName asks the kernel, through the socket, for the name of
// interface index in the socket's network namespace; "" when unknown.
func socketIfName(fd uintptr, index int) string {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return ""
	}
	ifr.SetUint32(uint32(index))
	if unix.IoctlIfreq(int(fd), unix.SIOCGIFNAME, ifr) != nil {
		return ""
	}
	return ifr.Name()
}

func newPktinfo() pktinfo { return unix.PktInfo4(&unix.Inet4Pktinfo{}) }

func (p pktinfo) set(ifIndex int, src netip.Addr) []byte {
	d := p[unix.CmsgLen(0):]
	binary.NativeEndian.PutUint32(d[0:4], uint32(int32(ifIndex)))
	a := [4]byte{}
	if src.Is4() {
		a = src.As4()
	}
	copy(d[4:8], a[:])
	clear(d[8:12])
	return p
}

// parsePktinfo reads IP_PKTINFO from a received control message.
func parsePktinfo(oob []byte, in *inbound) {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return
		}
		if h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo {
			in.ifIndex = int(int32(binary.NativeEndian.Uint32(data[0:4])))
			in.local = netip.AddrFrom4([4]byte(data[4:8]))
			in.dst = netip.AddrFrom4([4]byte(data[8:12]))
		}
		oob = rest
	}
}

// socketIfIndex asks the kernel, through the socket, for the index of the
// interface called name in the socket's network namespace; 0 when unknown.
func socketIfIndex(fd uintptr, name string) int {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0
	}
	if unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr) != nil {
		return 0
	}
	return int(int32(ifr.Uint32()))
}
