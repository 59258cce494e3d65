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

// poolFor returns the pool that serves req, which the server answers from
// srv: for a relayed request the pool whose subnet holds its link address
// (option 118, option 82 sub-option 5, or giaddr: see linkAddr), else the
// one whose subnet holds srv; nil when none does.
func (s *Server) poolFor(req *dhcpv4.DHCPv4, srv netip.Addr) *Pool {
	at := srv
	if a := linkAddr(req); a.IsValid() {
		at = a
	}
	if !at.IsValid() {
		return nil
	}
	if s.Pool != nil && s.Pool.subnet().Contains(at) {
		return s.Pool
	}
	for _, p := range s.Pools {
		if p.subnet().Contains(at) {
			return p
		}
	}
	return nil
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
