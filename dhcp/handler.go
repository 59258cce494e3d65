package dhcp

import (
	"context"
	"errors"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// handle returns the reply to req, or nil to stay silent.
func (s *Server) handle(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	if s.full() {
		return s.handleFull(ctx, req, in, srv)
	}
	return s.handleProxy(ctx, req, in, srv)
}

// poolFor returns the pool that serves req, which arrived as in and which
// the server answers from srv: for a relayed request the pool whose subnet
// holds its link address (option 118, option 82 sub-option 5, or giaddr:
// see linkAddr); for a request unicast to the server with ciaddr set and
// no giaddr (a RENEWING client's REQUEST, a RELEASE, an INFORM: RFC 2131
// §4.4.5, §4.4.6, §4.4.3), the pool whose subnet holds ciaddr, as Kea
// selects it, because the client of a relayed subnet sends those to the
// server directly, through its router and not through the relay; else,
// and when no pool holds that ciaddr, the one whose subnet holds srv. It
// is nil when none does.
func (s *Server) poolFor(req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) *Pool {
	if a := linkAddr(req); a.IsValid() {
		return s.poolAt(a)
	}
	if a := unicastCiaddr(req, in); a.IsValid() {
		if p := s.poolAt(a); p != nil {
			return p
		}
	}
	return s.poolAt(srv)
}

// poolAt returns the pool whose subnet holds a (the first such, Pool
// first), nil when none does or a is not valid.
func (s *Server) poolAt(a netip.Addr) *Pool {
	if !a.IsValid() {
		return nil
	}
	if s.Pool != nil && s.Pool.subnet().Contains(a) {
		return s.Pool
	}
	for _, p := range s.Pools {
		if p.subnet().Contains(a) {
			return p
		}
	}
	return nil
}

// unicastCiaddr returns req's ciaddr when req came unicast (its IP
// destination known and not the limited broadcast) with ciaddr set; the
// zero Addr otherwise. A broadcast with ciaddr (a REBINDING client) is
// relayed, or comes from the arrival segment, and is served by that.
func unicastCiaddr(req *dhcpv4.DHCPv4, in inbound) netip.Addr {
	a, ok := netip.AddrFromSlice(req.ClientIPAddr.To4())
	if !ok || a.IsUnspecified() || !in.dst.IsValid() || in.dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}
	}
	return a
}

// handleProxy answers as proxyDHCP: OFFERs without address to boot
// clients' DISCOVERs, ACKs to their REQUESTs on port 4011 or to this
// server; silence to everything else.
func (s *Server) handleProxy(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	var mt dhcpv4.MessageType
	switch msgType(req) {
	case dhcpv4.MessageTypeDiscover:
		if in.port == PXEPort {
			return nil, nil
		}
		mt = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeInform:
		sid := optAddr(req, dhcpv4.OptionServerIdentifier)
		if in.port != PXEPort && (!sid.IsValid() || sid != srv) {
			return nil, nil // a REQUEST for the DHCP server that hands out addresses
		}
		mt = dhcpv4.MessageTypeAck
	default:
		return nil, nil
	}
	b, err := s.boot(ctx, req)
	if errors.Is(err, ErrNoBoot) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	via := BootInReply
	if mt == dhcpv4.MessageTypeOffer && b.ProxyStyle == ProxyBINL {
		via = BootAtPXEPort
	}
	r, err := NewReply(req, mt, srv, b, via)
	if err != nil {
		return nil, err
	}
	if mt == dhcpv4.MessageTypeAck {
		copy(r.ClientIPAddr, req.ClientIPAddr.To4())
	}
	return r, nil
}
