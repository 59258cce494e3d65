package dhcp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// handle returns the reply to req, or nil to stay silent.
func (s *Server) handle(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	if s.full() {
		return s.handleFull(ctx, req, in, srv)
	}
	return s.handleProxy(ctx, req, in, srv)
}

// boot returns the boot decision for req: from the Decider for a boot
// client, remembered by MAC for a boot loader's own exchange shortly after
// the firmware's (see [Server.RememberFor]), or ErrNoBoot.
func (s *Server) boot(ctx context.Context, req *dhcpv4.DHCPv4) (*Boot, error) {
	mac := req.ClientHWAddr
	now := s.now()
	if isBootClient(req) {
		if s.Decider == nil {
			return nil, ErrNoBoot
		}
		b, err := s.Decider.Decide(ctx, req)
		if err != nil {
			return nil, err
		}
		if ttl := s.rememberFor(); ttl > 0 {
			s.memo.put(mac, b, now, now.Add(ttl))
		}
		return &b, nil
	}
	// Only a request that looks like a boot loader asking again is
	// answered from memory; an operating system's DHCP client is answered
	// as an operating system, whether it sends its own class (udhcpc:
	// "udhcp 1.36.1") or not (ISC dhclient, systemd-networkd).
	if s.rememberFor() > 0 && !looksLikeOS(req) {
		if b, ok := s.memo.get(mac, now); ok {
			return &b, nil
		}
	}
	return nil, ErrNoBoot
}

// looksLikeOS reports whether req, which lacks a PXE or HTTP boot class,
// comes from an operating system's DHCP client rather than from a boot
// loader's bare exchange (syslinux.efi sends options 53, 57 and 55 only):
// it has a vendor class of its own (60), a host name (12), a client
// identifier (61) or FQDN (81), or it asks for options only a system
// configures: domain search (119), classless static routes (121, 249),
// NTP servers (42), WPAD (252).
func looksLikeOS(req *dhcpv4.DHCPv4) bool {
	for _, c := range [...]dhcpv4.OptionCode{dhcpv4.OptionClassIdentifier, dhcpv4.OptionHostName, dhcpv4.OptionClientIdentifier, dhcpv4.OptionFQDN} {
		if _, ok := req.Options[c.Code()]; ok {
			return true
		}
	}
	for _, c := range req.Options.Get(dhcpv4.OptionParameterRequestList) {
		switch c {
		case 42, 119, 121, 249, 252:
			return true
		}
	}
	return false
}

// now is the server's clock: the Pool's (tests set it) or the real one.
func (s *Server) now() time.Time {
	if p := s.Pool; p == nil && len(s.Pools) > 0 {
		if p := s.Pools[0]; p.now != nil {
			return p.now()
		}
	} else if p != nil && p.now != nil {
		return p.now()
	}
	return time.Now()
}

// defaultRememberFor bounds the memory of boot decisions to the boot
// loader's exchange: syslinux.efi asks within seconds of the firmware,
// an operating system's DHCP client only after its kernel has booted.
const defaultRememberFor = 60 * time.Second

func (s *Server) rememberFor() time.Duration {
	if s.RememberFor == 0 {
		return defaultRememberFor
	}
	return s.RememberFor
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

// handleFull answers as a full DHCP server (RFC 2131 §4.3).
func (s *Server) handleFull(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (*dhcpv4.DHCPv4, error) {
	p := s.poolFor(req, srv)
	if p == nil {
		return nil, nil // from a segment (or relayed from one) no pool serves
	}
	sub := p.subnet()
	mac := clientFor(req.ClientHWAddr, req.Options.Get(dhcpv4.OptionClientIdentifier))
	now := p.now()
	mt := msgType(req)

	var b *Boot
	if mt == dhcpv4.MessageTypeDiscover || mt == dhcpv4.MessageTypeRequest || mt == dhcpv4.MessageTypeInform {
		var err error
		b, err = s.boot(ctx, req)
		if err != nil && !errors.Is(err, ErrNoBoot) {
			// The network's DHCP server leases an address all the same
			// (as dnsmasq does), without boot options, and says so once
			// per client.
			if s.noBootNoted.add(req.ClientHWAddr, now) {
				s.logPacket(ctx, &s.limit, slog.LevelInfo, in.src.Addr(), "dhcp: no boot answer for a boot client; leasing an address without boot options",
					"mac", req.ClientHWAddr.String(), "class", string(req.Options.Get(dhcpv4.OptionClassIdentifier)), "err", err)
			}
			b = nil
		}
	}
	requested := optAddr(req, dhcpv4.OptionRequestedIPAddress)
	ciaddr, _ := netip.AddrFromSlice(req.ClientIPAddr.To4())
	if ciaddr.IsUnspecified() {
		ciaddr = netip.Addr{}
	}
	host := string(req.Options.Get(dhcpv4.OptionHostName))
	if len(host) > 64 {
		host = host[:64]
	}

	switch mt {
	case dhcpv4.MessageTypeDiscover:
		var a netip.Addr
		var err error
		if al := p.allocator(); al != nil {
			a, err = p.offerShared(ctx, al, mac, requested, now)
		} else {
			a, err = p.offer(mac, requested, now)
		}
		if err != nil {
			return nil, err
		}
		r, err := NewReply(req, dhcpv4.MessageTypeOffer, srv, b, BootInReply)
		if err != nil {
			return nil, err
		}
		p.addLeaseOptions(r, a, true)
		return r, nil

	case dhcpv4.MessageTypeRequest:
		sid := optAddr(req, dhcpv4.OptionServerIdentifier)
		var a netip.Addr
		needRecord := true
		switch {
		case sid.IsValid(): // SELECTING
			if sid != srv {
				p.forgetOffer(mac)
				return nil, nil
			}
			if !requested.IsValid() {
				return nil, nil
			}
			a, needRecord = requested, false
		case requested.IsValid(): // INIT-REBOOT
			if !sub.Contains(requested) {
				return nak(req, srv)
			}
			a = requested
		case ciaddr.IsValid(): // RENEWING or REBINDING
			a = ciaddr
		default:
			return nil, nil
		}
		if needRecord {
			// RFC 2131 §4.3.2: NAK an address that is someone else's or
			// not the one this client has; no record: stay silent.
			mine, other, elsewhere := p.known(a, mac)
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
				ok, err := p.lookupShared(ctx, al, a, mac)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, nil
				}
				needRecord = false
			}
		}
		l, ok, serr := p.commit(ctx, a, mac, host, now, needRecord)
		if serr != nil && !ok {
			return nil, serr
		}
		if !ok {
			return nak(req, srv)
		}
		r, err := NewReply(req, dhcpv4.MessageTypeAck, srv, b, BootInReply)
		if err != nil {
			return nil, err
		}
		copy(r.ClientIPAddr, req.ClientIPAddr.To4())
		p.addLeaseOptions(r, l.Addr, true)
		if serr != nil {
			// The store failed, but this server holds the lease (see
			// Pool.provable): the ACK gives its time left, not a new lease,
			// and the error goes with it, so the failure is still counted.
			setLeaseTimes(r, l.Expiry.Sub(now))
			return r, serr
		}
		return r, nil

	case dhcpv4.MessageTypeDecline:
		if requested.IsValid() {
			return nil, p.release(ctx, requested, mac, true, now)
		}
		return nil, nil

	case dhcpv4.MessageTypeRelease:
		if ciaddr.IsValid() {
			return nil, p.release(ctx, ciaddr, mac, false, now)
		}
		return nil, nil

	case dhcpv4.MessageTypeInform:
		r, err := NewReply(req, dhcpv4.MessageTypeAck, srv, b, BootInReply)
		if err != nil {
			return nil, err
		}
		copy(r.ClientIPAddr, req.ClientIPAddr.To4())
		p.addLeaseOptions(r, netip.Addr{}, false)
		return r, nil
	}
	return nil, nil
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

// memo remembers boot decisions by MAC, bounded in size.
type memo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	boot    Boot
	expires time.Time
}

const memoMax = 1 << 16

func (m *memo) put(mac net.HardwareAddr, b Boot, now, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]memoEntry)
	}
	if _, ok := m.m[string(mac)]; ok {
		m.m[string(mac)] = memoEntry{b, expires}
		return
	}
	if len(m.m) >= memoMax {
		for k, e := range m.m {
			if e.expires.Before(now) {
				delete(m.m, k)
			}
		}
		for k := range m.m {
			if len(m.m) < memoMax {
				break
			}
			delete(m.m, k)
		}
	}
	m.m[string(mac)] = memoEntry{b, expires}
}

func (m *memo) get(mac net.HardwareAddr, now time.Time) (Boot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[string(mac)]
	if !ok || e.expires.Before(now) {
		return Boot{}, false
	}
	return e.boot, true
}

// macSet remembers MAC addresses for a while, bounded in size: which
// clients a once-per-client log line was written for.
type macSet struct {
	mu sync.Mutex
	m  map[string]time.Time // MAC → when it was added
}

// macSetFor is how long a [macSet] remembers a MAC.
const macSetFor = time.Hour

// add records mac and reports whether it was not already recorded within
// macSetFor before now.
func (s *macSet) add(mac net.HardwareAddr, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.m[string(mac)]; ok && now.Sub(at) < macSetFor && !now.Before(at) {
		return false
	}
	if s.m == nil {
		s.m = make(map[string]time.Time)
	}
	if len(s.m) >= memoMax {
		for k, at := range s.m {
			if now.Sub(at) >= macSetFor || len(s.m) >= memoMax {
				delete(s.m, k)
			}
		}
	}
	s.m[string(mac)] = now
	return true
}
