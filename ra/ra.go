// Package ra answers IPv6 router solicitations on one interface with a
// router advertisement (RFC 4861) that makes no host route through this
// machine.
//
// A boot server needs it even on an IPv4 network: iPXE waits for a router
// advertisement before it loads its boot file and gives up on IPv6 only
// after about 13 seconds, once per boot. An advertisement with router
// lifetime 0 (not a default router), no prefix and neither the M nor the O
// flag ends that wait and changes no address or route of any host on the
// link.
//
//	s := &ra.Server{Interface: "eth0", Logger: log}
//	go s.ListenAndServe()
//	defer s.Close()
//
// Message layout (RFC 4861 §4.2): type 134, code 0, checksum (the kernel
// fills it in for ICMPv6 raw sockets), current hop limit, flags, router
// lifetime (2 bytes), reachable time (4), retrans timer (4), then the
// source link-layer address option (type 1, length 1 = 8 bytes, the MAC).
// Hosts drop advertisements whose hop limit is not 255 (§6.1.2), so they
// are sent with 255. Answering needs CAP_NET_RAW.
package ra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/net/ipv6"
)

// ErrServerClosed is returned by ListenAndServe after Close or Shutdown.
var ErrServerClosed = errors.New("ra: server closed")

// Server answers router solicitations on one interface. Set the fields
// before ListenAndServe; they must not change after.
type Server struct {
	// Interface names the interface to answer on (required).
	Interface string

	// Managed and Other set the M and O flags (RFC 4861 §4.2): addresses,
	// or only other configuration, from DHCPv6. Both false tells hosts
	// that there is no DHCPv6 to ask.
	Managed, Other bool

	// Logger receives one line per answered solicitation (Info) and per
	// failed answer (Warn); nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	conn   net.PacketConn
	closed bool
}

// Advertisement returns the router advertisement s sends from the
// interface with hardware address mac.
func (s *Server) Advertisement(mac net.HardwareAddr) []byte {
	var flags byte
	if s.Managed {
		flags |= 0x80
	}
	if s.Other {
		flags |= 0x40
	}
	msg := []byte{
		134, 0, 0, 0, // type, code, checksum
		0, flags, 0, 0, // hop limit unspecified, flags, router lifetime 0
		0, 0, 0, 0, // reachable time
		0, 0, 0, 0, // retrans timer
	}
	if len(mac) > 0 {
		opt := append([]byte{1, byte((2 + len(mac) + 7) / 8)}, mac...)
		for len(opt)%8 != 0 {
			opt = append(opt, 0)
		}
		msg = append(msg, opt...)
	}
	return msg
}

// ListenAndServe answers solicitations until Close or Shutdown, then
// returns ErrServerClosed.
func (s *Server) ListenAndServe() error {
	ifi, err := net.InterfaceByName(s.Interface)
	if err != nil {
		return fmt.Errorf("ra: %w", err)
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return fmt.Errorf("ra: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return ErrServerClosed
	}
	s.conn = c
	s.mu.Unlock()
	defer c.Close()

	p := ipv6.NewPacketConn(c)
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeRouterSolicitation)
	// Solicitations go to all-routers (ff02::2), which a host that is not
	// a router has not joined.
	for _, step := range []func() error{
		func() error { return p.SetICMPFilter(&f) },
		func() error { return p.JoinGroup(ifi, &net.IPAddr{IP: net.ParseIP("ff02::2")}) },
		func() error { return p.SetControlMessage(ipv6.FlagInterface, true) },
		func() error { return p.SetMulticastHopLimit(255) },
		func() error { return p.SetHopLimit(255) },
	} {
		if err := step(); err != nil {
			return s.closedOr(fmt.Errorf("ra: %w", err))
		}
	}
	msg := s.Advertisement(ifi.HardwareAddr)
	allNodes := &net.IPAddr{IP: net.ParseIP("ff02::1"), Zone: ifi.Name}
	buf := make([]byte, 1500)
	for {
		n, cm, src, err := p.ReadFrom(buf)
		if err != nil {
			return s.closedOr(fmt.Errorf("ra: %w", err))
		}
		if n < 8 || buf[0] != byte(ipv6.ICMPTypeRouterSolicitation) || cm == nil || cm.IfIndex != ifi.Index {
			continue
		}
		wcm := &ipv6.ControlMessage{IfIndex: ifi.Index, HopLimit: 255}
		if _, err := p.WriteTo(msg, wcm, allNodes); err != nil {
			log.Warn("router advertisement", "iface", ifi.Name, "err", err)
			continue
		}
		log.Info("answered router solicitation", "iface", ifi.Name, "peer", src)
	}
}

func (s *Server) closedOr(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	return err
}

// Close stops the server.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		return s.conn.Close()
	}
	return nil
}

// Shutdown stops the server; it has no requests in flight to wait for.
func (s *Server) Shutdown(context.Context) error { return s.Close() }
