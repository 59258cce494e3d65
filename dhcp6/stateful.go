package dhcp6

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
)

// request is what the stateful responder needs to know of a client
// message beside the message itself.
type request struct {
	msg     *dhcpv6.Message
	ifIndex int
	// relayMAC is the client link-layer address a relay sent as option
	// 79 (RFC 6939), nil when none.
	relayMAC net.HardwareAddr
	// peer is the source address of a request that was not relayed:
	// the client's link-local address.
	peer netip.Addr
}

// clientMAC returns the client's MAC: from a DUID-LL/LLT, else from the
// relay's option 79, else from the modified EUI-64 interface identifier
// of the client's link-local source address (RFC 4291 §2.5.1, as EDK2
// and iPXE form it; their DUID-UUID carries no MAC); nil when none has
// one.
func clientMAC(duid []byte, relayMAC net.HardwareAddr, peer netip.Addr) net.HardwareAddr {
	if d, err := ParseDUID(CodeClientID, duid); err == nil {
		if m, ok := d.MAC(); ok {
			return m
		}
	}
	if len(relayMAC) == 6 {
		return append(net.HardwareAddr(nil), relayMAC...)
	}
	return eui64MAC(peer)
}

// eui64MAC returns the MAC address in a link-local address whose
// interface identifier is a modified EUI-64 (ff:fe in its middle), nil
// for any other address.
func eui64MAC(a netip.Addr) net.HardwareAddr {
	if !a.Is6() || !a.IsLinkLocalUnicast() {
		return nil
	}
	b := a.As16()
	if b[11] != 0xff || b[12] != 0xfe {
		return nil
	}
	return net.HardwareAddr{b[8] ^ 0x02, b[9], b[10], b[13], b[14], b[15]}
}

// relayClientMAC returns option 79 of the relay closest to the client.
func relayClientMAC(r *dhcpv6.RelayMessage) net.HardwareAddr {
	for range 32 { // RFC 8415 §7.6: HOP_COUNT_LIMIT 8; be generous
		inner, ok := r.Options.RelayMessage().(*dhcpv6.RelayMessage)
		if !ok {
			break
		}
		r = inner
	}
	ht, mac := r.Options.ClientLinkLayerAddress()
	if ht != iana.HWTypeEthernet || len(mac) != 6 {
		return nil
	}
	return mac
}

// respondStateful answers msg from s.Pool (RFC 8415 §18.3).
func (s *Server) respondStateful(ctx context.Context, rq request) (*dhcpv6.Message, error) {
	msg := rq.msg
	p := s.Pool
	now := time.Now()
	cid := msg.Options.ClientID()
	sid := msg.Options.ServerID()
	switch msg.MessageType {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeConfirm:
		// Multicast only (RFC 8415 §16.2, §16.6, §16.7).
		if sid != nil {
			return nil, errors.New("server identifier in a multicast-only message")
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		// RFC 8415 §16.4, §16.5, §16.8, §16.9: must name this server.
		if sid == nil {
			return nil, errors.New("no server identifier")
		}
		if !sid.Equal(s.serverID) {
			return nil, nil // for another server
		}
	case dhcpv6.MessageTypeInformationRequest:
		if sid != nil && !sid.Equal(s.serverID) {
			return nil, nil
		}
	default:
		return nil, nil
	}
	if cid == nil && msg.MessageType != dhcpv6.MessageTypeInformationRequest {
		return nil, errors.New("no client identifier")
	}
	reply := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply, TransactionID: msg.TransactionID}
	var duid []byte
	if cid != nil {
		duid = cid.ToBytes()
		reply.AddOption(dhcpv6.OptClientID(cid))
	}
	reply.AddOption(dhcpv6.OptServerID(s.serverID))
	mac := clientMAC(duid, rq.relayMAC, rq.peer)
	log := s.logger()

	switch msg.MessageType {
	case dhcpv6.MessageTypeConfirm:
		// RFC 8415 §18.3.3: are the client's addresses on this link?
		n, off := 0, 0
		for _, ia := range msg.Options.IANA() {
			for _, ad := range ia.Options.Addresses() {
				n++
				if a, ok := netip.AddrFromSlice(ad.IPv6Addr); !ok || !p.Prefix.Contains(a.Unmap()) {
					off++
				}
			}
		}
		if n == 0 {
			return nil, nil
		}
		code, text := iana.StatusSuccess, "on link"
		if off > 0 {
			code, text = iana.StatusNotOnLink, "not on link"
		}
		reply.AddOption(&dhcpv6.OptStatusCode{StatusCode: code, StatusMessage: text})
		return reply, nil

	case dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		// RFC 8415 §18.3.7, §18.3.8.
		for _, ia := range msg.Options.IANA() {
			key := iaKey(ia.IaId, duid)
			var missing []*dhcpv6.OptIAAddress
			for _, ad := range ia.Options.Addresses() {
				a, _ := netip.AddrFromSlice(ad.IPv6Addr)
				a = a.Unmap()
				var err error
				if msg.MessageType == dhcpv6.MessageTypeRelease {
					err = p.release(ctx, key, a)
				} else {
					err = p.decline(ctx, key, a, now)
				}
				var se *dhcp.StoreError
				if errors.As(err, &se) {
					return nil, err // the store failed: no Reply, the client retries
				}
				if err != nil {
					missing = append(missing, &dhcpv6.OptIAAddress{IPv6Addr: ad.IPv6Addr})
					continue
				}
				log.Info("dhcp6: "+map[bool]string{true: "released", false: "declined"}[msg.MessageType == dhcpv6.MessageTypeRelease],
					"addr", a.String(), "mac", macString(mac))
			}
			if len(missing) > 0 {
				opts := dhcpv6.Options{}
				for _, m := range missing {
					opts = append(opts, m)
				}
				opts = append(opts, &dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding, StatusMessage: "no such lease"})
				reply.AddOption(&dhcpv6.OptIANA{IaId: ia.IaId, Options: dhcpv6.IdentityOptions{Options: opts}})
			}
		}
		reply.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess, StatusMessage: "done"})
		return reply, nil
	}

	rapid := msg.MessageType == dhcpv6.MessageTypeSolicit && !p.NoRapidCommit &&
		msg.GetOneOption(dhcpv6.OptionRapidCommit) != nil
	if msg.MessageType == dhcpv6.MessageTypeSolicit && !rapid {
		reply.MessageType = dhcpv6.MessageTypeAdvertise
	}
	if rapid {
		reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	}
	if msg.MessageType != dhcpv6.MessageTypeInformationRequest {
		t1, t2 := p.t1t2()
		pref, valid := p.preferred(), p.valid()
		for _, ia := range msg.Options.IANA() {
			key := iaKey(ia.IaId, duid)
			var want netip.Addr
			addrs := ia.Options.Addresses()
			if len(addrs) > 0 {
				want, _ = netip.AddrFromSlice(addrs[0].IPv6Addr)
				want = want.Unmap()
			}
			var a netip.Addr
			var err error
			switch msg.MessageType {
			case dhcpv6.MessageTypeSolicit:
				if rapid {
					a, err = p.commit(ctx, key, mac, want, false, now)
				} else {
					a, err = p.advertise(key, mac, want, now)
				}
			case dhcpv6.MessageTypeRequest:
				a, err = p.commit(ctx, key, mac, want, false, now)
			default: // Renew, Rebind
				a, err = p.commit(ctx, key, mac, want, true, now)
			}
			out := &dhcpv6.OptIANA{IaId: ia.IaId}
			switch {
			case err == nil:
				out.T1, out.T2 = t1, t2
				out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: a.AsSlice(), PreferredLifetime: pref, ValidLifetime: valid})
				// Addresses the client listed and does not get:
				// lifetimes 0 (RFC 8415 §18.3.4, §18.3.5).
				if msg.MessageType == dhcpv6.MessageTypeRenew || msg.MessageType == dhcpv6.MessageTypeRebind {
					for _, ad := range addrs[min(1, len(addrs)):] {
						out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: ad.IPv6Addr})
					}
				}
				if (msg.MessageType != dhcpv6.MessageTypeSolicit || rapid) && log.Enabled(ctx, slog.LevelInfo) {
					log.Info("dhcp6: lease", "type", msg.MessageType.String(), "addr", a.String(), "mac", macString(mac), "valid", valid.String())
				}
			case errors.Is(err, ErrNoAddrs):
				log.Warn("dhcp6: address pool exhausted", "mac", macString(mac))
				out.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail, StatusMessage: "no address available"})
			case errors.Is(err, ErrNoBinding) && msg.MessageType == dhcpv6.MessageTypeRebind:
				for _, ad := range addrs {
					out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: ad.IPv6Addr})
				}
			case errors.Is(err, ErrNoBinding):
				out.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding, StatusMessage: "no such lease"})
			default:
				log.Error("dhcp6: lease store failed, request not answered", "addr", a.String(), "mac", macString(mac), "err", err)
				return nil, err
			}
			reply.AddOption(out)
		}
	}
	if len(p.DNS) > 0 {
		ips := make([]net.IP, len(p.DNS))
		for i, d := range p.DNS {
			ips[i] = d.AsSlice()
		}
		reply.AddOption(dhcpv6.OptDNS(ips...))
	}
	if s.Decider != nil {
		a := s.arrival(rq.ifIndex)
		boot, err := s.Decider.Decide6(WithArrival(ctx, a), msg)
		switch {
		case err == nil:
			if err := AddBoot(reply, boot); err != nil {
				log.Warn("dhcp6: boot options left out", "err", err)
			}
		case errors.Is(err, ErrNoBoot):
		default:
			log.Info("dhcp6: boot options left out", "err", err)
		}
	}
	return reply, nil
}

func macString(m net.HardwareAddr) string {
	if m == nil {
		return ""
	}
	return m.String()
}
