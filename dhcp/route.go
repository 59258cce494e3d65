package dhcp

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// send writes a reply from address src; with IP_PKTINFO a broadcast leaves
// by interface ifIndex, the client's segment, and no other.
func (sc *serverConn) send(b []byte, dst netip.AddrPort, ifIndex int, src netip.Addr, pi pktinfo) error {
	if sc.udp != nil && ifIndex != 0 {
		if sc.localAddr.IsValid() && !sc.localAddr.IsUnspecified() {
			src = netip.Addr{} // the socket's own address is the source
		}
		if !dst.Addr().IsMulticast() && dst.Addr() != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			ifIndex = 0 // unicast follows the routing table, from src
		}
		if sc.raw != nil && dst.Addr().Is4() {
			return sc.raw.sendmsg(b, pi.set(ifIndex, src), dst)
		}
		_, _, err := sc.udp.WriteMsgUDPAddrPort(b, pi.set(ifIndex, src), dst)
		return err
	}
	_, err := sc.conn.WriteTo(b, net.UDPAddrFromAddrPort(dst))
	return err
}

// replyDest returns where a reply goes (RFC 2131 §4.1).
func replyDest(req, reply *dhcpv4.DHCPv4, in inbound) netip.AddrPort {
	bcast := netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), ClientPort)
	if gi, ok := netip.AddrFromSlice(req.GatewayIPAddr.To4()); ok && !gi.IsUnspecified() {
		return netip.AddrPortFrom(gi, ServerPort)
	}
	if msgType(reply) == dhcpv4.MessageTypeNak {
		return bcast
	}
	if in.port == PXEPort && in.src.Addr().Is4() && !in.src.Addr().IsUnspecified() && in.src.Port() != 0 {
		// PXE 2.1 §2.2.4: a boot server answers the port-4011 request
		// where it came from, whatever ciaddr says.
		return in.src
	}
	if ci, ok := netip.AddrFromSlice(req.ClientIPAddr.To4()); ok && !ci.IsUnspecified() {
		if in.src.Addr() == ci && in.src.Port() != 0 {
			return in.src
		}
		return netip.AddrPortFrom(ci, ClientPort)
	}
	return bcast
}

// serverAddr picks the address the server answers from: ServerAddr, the
// unicast destination of the request, the kernel's choice for the arrival
// interface (IP_PKTINFO ipi_spec_dst), or for a full DHCP server an address
// of that interface inside the pool's subnet.
func (s *Server) serverAddr(sc *serverConn, in inbound) netip.Addr {
	if s.ServerAddr.IsValid() {
		return s.ServerAddr
	}
	pools := s.pools()
	inPool := func(a netip.Addr) bool {
		if len(pools) == 0 {
			return true
		}
		for _, p := range pools {
			if p.subnet().Contains(a) {
				return true
			}
		}
		return false
	}
	ok := func(a netip.Addr) bool {
		return a.Is4() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) && inPool(a)
	}
	switch {
	case ok(in.dst):
		return in.dst
	case ok(in.local):
		return in.local
	}
	if in.ifIndex != 0 {
		for _, p := range pools {
			if a := s.ifaces.addr(in.ifIndex, p.subnet()); a.IsValid() {
				return a
			}
		}
	}
	if in.local.Is4() && !in.local.IsUnspecified() {
		return in.local
	}
	if sc.localAddr.Is4() && !sc.localAddr.IsUnspecified() {
		return sc.localAddr
	}
	return netip.Addr{}
}

// ifaceCache maps interface indexes to their IPv4 addresses, refreshed
// every few seconds.
type ifaceCache struct {
	mu sync.Mutex
	m  map[int]ifaceEntry
}

type ifaceEntry struct {
	addrs []netip.Prefix
	at    time.Time
}

func (c *ifaceCache) addr(index int, want netip.Prefix) netip.Addr {
	c.mu.Lock()
	e, ok := c.m[index]
	c.mu.Unlock()
	if !ok || time.Since(e.at) > 5*time.Second {
		e = ifaceEntry{at: time.Now()}
		if ifi, err := net.InterfaceByIndex(index); err == nil {
			if as, err := ifi.Addrs(); err == nil {
				for _, a := range as {
					if ipn, ok := a.(*net.IPNet); ok {
						if ip, ok := netip.AddrFromSlice(ipn.IP.To4()); ok {
							ones, _ := ipn.Mask.Size()
							e.addrs = append(e.addrs, netip.PrefixFrom(ip, ones))
						}
					}
				}
			}
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = make(map[int]ifaceEntry)
		}
		c.m[index] = e
		c.mu.Unlock()
	}
	for _, p := range e.addrs {
		if !want.IsValid() || want.Contains(p.Addr()) {
			return p.Addr()
		}
	}
	return netip.Addr{}
}
