package dhcp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// handleFull answers as a full DHCP server (RFC 2131 §4.3): it finds the
// pool that serves req and hands the request to the handler of its
// message type.
func (s *Server) handleFull(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	p := s.poolFor(req, in, srv)
	if p == nil {
		return nil, nil // from a segment (or relayed from one) no pool serves
	}
	r := fullRequest{
		req:       req,
		p:         p,
		srv:       srv,
		c:         clientFor(req.ClientHWAddr, req.Options.Get(dhcpv4.OptionClientIdentifier)),
		now:       p.now(),
		requested: optAddr(req, dhcpv4.OptionRequestedIPAddress),
	}
	if a, _ := netip.AddrFromSlice(req.ClientIPAddr.To4()); !a.IsUnspecified() {
		r.ciaddr = a
	}
	switch msgType(req) {
	case dhcpv4.MessageTypeDiscover:
		r.boot = s.fullBoot(ctx, req, in, r.now)
		return r.discover(ctx)
	case dhcpv4.MessageTypeRequest:
		return s.request(ctx, &r, in)
	case dhcpv4.MessageTypeInform:
		r.boot = s.fullBoot(ctx, req, in, r.now)
		return r.inform()
	case dhcpv4.MessageTypeDecline:
		return nil, r.decline(ctx)
	case dhcpv4.MessageTypeRelease:
		return nil, r.release(ctx)
	}
	return nil, nil
}

// fullRequest is a request to a full DHCP server, with what every
// message type's handler reads from it.
type fullRequest struct {
	req       *dhcpv4.DHCPv4
	p         *Pool      // the pool that serves it
	srv       netip.Addr // the server's address, option 54 of the reply
	c         client     // who asks: MAC or option 61
	now       time.Time  // the pool's clock
	boot      *Boot      // boot options of the reply; nil for none
	requested netip.Addr // option 50, when valid
	ciaddr    netip.Addr // ciaddr, when set
}

// fullBoot returns the boot options of a full DHCP server's reply to
// req, nil for none. A boot client the Decider fails for gets an address
// all the same (as dnsmasq does), without boot options, and that is said
// once per client.
func (s *Server) fullBoot(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, now time.Time) *Boot {
	b, err := s.boot(ctx, req)
	if err == nil {
		return b
	}
	if !errors.Is(err, ErrNoBoot) && s.noBootNoted.add(req.ClientHWAddr, now) {
		s.logPacket(ctx, &s.limit, slog.LevelInfo, in.src.Addr(), "dhcp: no boot answer for a boot client; leasing an address without boot options",
			"mac", req.ClientHWAddr.String(), "class", string(req.Options.Get(dhcpv4.OptionClassIdentifier)), "err", err)
	}
	return nil
}

// discover answers a DISCOVER with an OFFER of an address held for the
// client (RFC 2131 §4.3.1).
func (r *fullRequest) discover(ctx context.Context) (*dhcpv4.DHCPv4, error) {
	var a netip.Addr
	var err error
	if al := r.p.allocator(); al != nil {
		a, err = r.p.offerShared(ctx, al, r.c, r.requested, r.now)
	} else {
		a, err = r.p.offer(r.c, r.requested, r.now)
	}
	if err != nil {
		return nil, err
	}
	reply, err := NewReply(r.req, dhcpv4.MessageTypeOffer, r.srv, r.boot, BootInReply)
	if err != nil {
		return nil, err
	}
	r.p.addLeaseOptions(reply, a, true)
	return reply, nil
}

// request answers a REQUEST in each of its states (RFC 2131 §4.3.2):
// SELECTING (option 54 names a server), INIT-REBOOT (option 50 without
// option 54), RENEWING or REBINDING (ciaddr). The ACK goes out only once
// the lease is committed to the store. A REQUEST for another server is
// left before the boot decision is made.
func (s *Server) request(ctx context.Context, r *fullRequest, in inbound) (*dhcpv4.DHCPv4, error) {
	p, req, srv := r.p, r.req, r.srv
	sid := optAddr(req, dhcpv4.OptionServerIdentifier)
	var a netip.Addr
	needRecord := true
	switch {
	case sid.IsValid(): // SELECTING
		if sid != srv {
			p.forgetOffer(r.c)
			return nil, nil
		}
		if !r.requested.IsValid() {
			return nil, nil
		}
		a, needRecord = r.requested, false
	case r.requested.IsValid(): // INIT-REBOOT
		if !p.subnet().Contains(r.requested) {
			return nak(req, srv)
		}
		a = r.requested
	case r.ciaddr.IsValid(): // RENEWING or REBINDING
		a = r.ciaddr
	default:
		return nil, nil
	}
	r.boot = s.fullBoot(ctx, req, in, r.now)
	if needRecord {
		// RFC 2131 §4.3.2: NAK an address that is someone else's or
		// not the one this client has; no record: stay silent.
		mine, other, elsewhere := p.known(a, r.c)
		if other || elsewhere {
			return nak(req, srv)
		}
		if !mine {
			al := p.allocator()
			if al == nil {
				return nil, nil // RFC 2131 §4.3.2: no record of this client
			}
			// A lease a peer server gave (the peer may be down): the
			// shared store has the record.
			ok, err := p.lookupShared(ctx, al, a, r.c)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nil
			}
			needRecord = false
		}
	}
	host := string(req.Options.Get(dhcpv4.OptionHostName))
	if len(host) > 64 {
		host = host[:64]
	}
	l, ok, serr := p.commit(ctx, a, r.c, host, r.now, needRecord)
	if serr != nil && !ok {
		return nil, serr
	}
	if !ok {
		return nak(req, srv)
	}
	reply, err := NewReply(req, dhcpv4.MessageTypeAck, srv, r.boot, BootInReply)
	if err != nil {
		return nil, err
	}
	copy(reply.ClientIPAddr, req.ClientIPAddr.To4())
	p.addLeaseOptions(reply, l.Addr, true)
	if serr != nil {
		// The store failed, but this server holds the lease (see
		// Pool.provable): the ACK gives its time left, not a new lease,
		// and the error goes with it, so the failure is still counted.
		setLeaseTimes(reply, l.Expiry.Sub(r.now))
		return reply, serr
	}
	return reply, nil
}

// decline holds the address a DECLINE names (option 50) as a conflict
// (RFC 2131 §4.3.3); no reply.
func (r *fullRequest) decline(ctx context.Context) error {
	if !r.requested.IsValid() {
		return nil
	}
	return r.p.release(ctx, r.requested, r.c, true, r.now)
}

// release frees the client's address in ciaddr (RFC 2131 §4.3.4); no
// reply.
func (r *fullRequest) release(ctx context.Context) error {
	if !r.ciaddr.IsValid() {
		return nil
	}
	return r.p.release(ctx, r.ciaddr, r.c, false, r.now)
}

// inform answers an INFORM with an ACK carrying the pool's options and
// no address or lease times (RFC 2131 §4.3.5).
func (r *fullRequest) inform() (*dhcpv4.DHCPv4, error) {
	reply, err := NewReply(r.req, dhcpv4.MessageTypeAck, r.srv, r.boot, BootInReply)
	if err != nil {
		return nil, err
	}
	copy(reply.ClientIPAddr, r.req.ClientIPAddr.To4())
	r.p.addLeaseOptions(reply, netip.Addr{}, false)
	return reply, nil
}

func nak(req *dhcpv4.DHCPv4, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	r, err := NewReply(req, dhcpv4.MessageTypeNak, srv, nil, BootInReply)
	if err != nil {
		return nil, err
	}
	if !req.GatewayIPAddr.IsUnspecified() && req.GatewayIPAddr.To4() != nil {
		r.SetBroadcast() // RFC 2131 §4.1: NAK through a relay is broadcast
	}
	return r, nil
}

// addLeaseOptions sets yiaddr (when a is valid) and the options of a lease:
// subnet mask, routers, DNS, domain name, the further options of p
// (42, 26, 119, 121) and, with times, lease, renewal and rebinding
// times (RFC 2131 §4.4.5: T1 = 0.5, T2 = 0.875 of the lease).
func (p *Pool) addLeaseOptions(r *dhcpv4.DHCPv4, a netip.Addr, times bool) {
	if a.Is4() {
		r.YourIPAddr = a.AsSlice()
	}
	r.Options[dhcpv4.OptionSubnetMask.Code()] = net.CIDRMask(p.subnet().Bits(), 32)
	if len(p.Routers) > 0 {
		r.Options[dhcpv4.OptionRouter.Code()] = addrList(p.Routers)
	}
	if len(p.DNS) > 0 {
		r.Options[dhcpv4.OptionDomainNameServer.Code()] = addrList(p.DNS)
	}
	if p.Domain != "" {
		r.Options[dhcpv4.OptionDomainName.Code()] = []byte(p.Domain)
	}
	for _, o := range p.extra {
		r.Options[o.code] = o.value
	}
	if times {
		setLeaseTimes(r, p.leaseTime())
	}
}

// setLeaseTimes sets the lease, renewal and rebinding times of r for a
// lease of d (RFC 2131 §4.4.5: T1 = 0.5, T2 = 0.875 of the lease).
func setLeaseTimes(r *dhcpv4.DHCPv4, d time.Duration) {
	lt := uint32(d / time.Second)
	r.Options[dhcpv4.OptionIPAddressLeaseTime.Code()] = be32(lt)
	r.Options[dhcpv4.OptionRenewTimeValue.Code()] = be32(lt / 2)
	r.Options[dhcpv4.OptionRebindingTimeValue.Code()] = be32(uint32(uint64(lt) * 7 / 8))
}

func addrList(as []netip.Addr) []byte {
	b := make([]byte, 0, 4*len(as))
	for _, a := range as {
		if a.Is4() {
			v := a.As4()
			b = append(b, v[:]...)
		}
	}
	return b
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
