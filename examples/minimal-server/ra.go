package main

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"golang.org/x/net/ipv6"
)

// answerRouterSolicitations answers every IPv6 router solicitation that
// arrives on ifi with a router advertisement that announces nothing: router
// lifetime 0 (not a default router), no prefix, neither the M nor the O flag
// (no DHCPv6). iPXE waits for such an advertisement before it loads its boot
// file; without one it gives up on IPv6 after about 13 seconds. The
// advertisement changes no address or route of any host on the link.
//
// Message layout, RFC 4861 §4.2: type 134, code 0, checksum (filled in by
// the kernel for ICMPv6 raw sockets), current hop limit, flags, router
// lifetime (2 bytes), reachable time (4), retrans timer (4), then the
// source link-layer address option (type 1, length 1 = 8 bytes, the MAC).
func answerRouterSolicitations(ctx context.Context, ifi *net.Interface, log *slog.Logger) error {
	c, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { c.Close() })
	p := ipv6.NewPacketConn(c)
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeRouterSolicitation)
	if err := p.SetICMPFilter(&f); err != nil {
		return err
	}
	// Solicitations go to all-routers (ff02::2), which a host that is not
	// a router has not joined.
	if err := p.JoinGroup(ifi, &net.IPAddr{IP: net.ParseIP("ff02::2")}); err != nil {
		return err
	}
	if err := p.SetControlMessage(ipv6.FlagInterface, true); err != nil {
		return err
	}
	// RFC 4861 §6.1.2: a host drops advertisements whose hop limit is not 255.
	if err := p.SetMulticastHopLimit(255); err != nil {
		return err
	}
	if err := p.SetHopLimit(255); err != nil {
		return err
	}
	ra := []byte{
		134, 0, 0, 0, // type, code, checksum
		0, 0, 0, 0, // hop limit unspecified, flags M=O=0, router lifetime 0
		0, 0, 0, 0, // reachable time
		0, 0, 0, 0, // retrans timer
		1, 1, // option: source link-layer address, 8 bytes
	}
	ra = append(ra, ifi.HardwareAddr...)
	for len(ra)%8 != 0 {
		ra = append(ra, 0)
	}
	allNodes := &net.IPAddr{IP: net.ParseIP("ff02::1"), Zone: ifi.Name}
	buf := make([]byte, 1500)
	for {
		n, cm, src, err := p.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if n < 8 || buf[0] != byte(ipv6.ICMPTypeRouterSolicitation) || cm == nil || cm.IfIndex != ifi.Index {
			continue
		}
		wcm := &ipv6.ControlMessage{IfIndex: ifi.Index, HopLimit: 255}
		if _, err := p.WriteTo(ra, wcm, allNodes); err != nil {
			log.Warn("router advertisement", "iface", ifi.Name, "err", err)
			continue
		}
		log.Info("answered router solicitation", "iface", ifi.Name, "peer", src)
	}
}
