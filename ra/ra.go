// Package ra sends IPv6 router advertisements (RFC 4861) on one interface:
// in answer to router solicitations and, when asked, periodically.
//
// An advertisement tells hosts on the link how to configure IPv6: the M
// (managed) and O (other configuration) flags say whether to ask DHCPv6
// for addresses or only for other settings such as boot options, prefix
// information options (RFC 4861 §4.6.2) give on-link prefixes and prefixes
// for stateless address autoconfiguration (SLAAC, RFC 4862), and the RDNSS
// option (RFC 8106 §5.1) names DNS servers. The router lifetime says
// whether this machine is a default router; pxekit's default is 0 (it is
// not), so that answering a boot client never changes a host's routes.
//
// A boot server needs it even on an IPv4 network: iPXE waits for a router
// advertisement before it loads its boot file and gives up on IPv6 only
// after about 13 seconds, once per boot. The zero [Server] (router
// lifetime 0, no prefix, neither M nor O) ends that wait and changes no
// address or route of any host on the link.
//
//	s := &ra.Server{Interface: "eth0", Logger: log}
//	go s.ListenAndServe()
//	defer s.Close()
//
// On a v6-only boot segment, give the prefix and the DHCPv6 mode:
//
//	s := &ra.Server{
//		Interface: "eth0",
//		Other:     true, // stateless DHCPv6: boot options only
//		Prefixes: []ra.Prefix{{
//			Prefix: netip.MustParsePrefix("2001:db8:16::/64"),
//			OnLink: true, Autonomous: true,
//		}},
//		MaxInterval: 600 * time.Second, // unsolicited advertisements too
//	}
//
// # Message layout
//
// RFC 4861 §4.2: type 134, code 0, checksum (the kernel fills it in for
// ICMPv6 raw sockets), current hop limit, flags, router lifetime (2 bytes,
// seconds), reachable time (4), retrans timer (4), then options: source
// link-layer address (type 1, the MAC), prefix information (type 3, 32
// bytes each) and RDNSS (type 25). Hosts drop advertisements whose hop
// limit is not 255 (§6.1.2), so they are sent with 255. Sending needs
// CAP_NET_RAW.
//
// # Timing
//
// Solicited advertisements go to all-nodes (ff02::1) at once, without the
// random delay of up to 0.5 s and the 3 s rate limit of RFC 4861 §6.2.6:
// boot firmware solicits once or twice and waits for the answer, and one
// advertisement per solicitation on a boot segment is cheap. Unsolicited
// advertisements (when [Server.MaxInterval] is set) follow §6.2.4: one
// when the server starts, the next ones at a random interval between
// [Server.MinInterval] and [Server.MaxInterval], at most 16 s apart for
// the first three.
//
// A [Server] is safe for concurrent use once ListenAndServe runs; its
// fields must not change after that.
package ra

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/ipv6"
)

// ErrServerClosed is returned by ListenAndServe after Close or Shutdown.
var ErrServerClosed = errors.New("ra: server closed")

// Protocol constants of RFC 4861 §6.2.1 and §10.
const (
	// MinMaxInterval and MaxMaxInterval bound [Server.MaxInterval]
	// (MaxRtrAdvInterval: 4 to 1800 seconds).
	MinMaxInterval = 4 * time.Second
	MaxMaxInterval = 1800 * time.Second
	// MinMinInterval is the smallest [Server.MinInterval] (3 seconds).
	MinMinInterval = 3 * time.Second
	// MaxRouterLifetime is the largest [Server.RouterLifetime] (9000 s).
	MaxRouterLifetime = 9000 * time.Second

	maxInitialAdvertisements = 3                // MAX_INITIAL_RTR_ADVERTISEMENTS
	maxInitialInterval       = 16 * time.Second // MAX_INITIAL_RTR_ADVERT_INTERVAL
)

// Default lifetimes of a [Prefix] (AdvValidLifetime, AdvPreferredLifetime
// of RFC 4861 §6.2.1) and of the RDNSS option (3 × MaxRtrAdvInterval at
// its default of 600 s, RFC 8106 §5.1 asks for at least 3 × MaxInterval).
const (
	DefaultValidLifetime     = 30 * 24 * time.Hour
	DefaultPreferredLifetime = 7 * 24 * time.Hour
	DefaultDNSLifetime       = 1800 * time.Second
)

// Infinity as a lifetime is sent as 0xffffffff, which hosts read as
// "never expires" (RFC 4861 §4.6.2).
const Infinity = time.Duration(1<<63 - 1)

// Prefix is one prefix information option (RFC 4861 §4.6.2).
type Prefix struct {
	// Prefix is the IPv6 prefix. SLAAC (RFC 4862 §5.5.3) uses it only
	// when it is a /64 on Ethernet.
	Prefix netip.Prefix

	// OnLink (the L flag) tells hosts that addresses in the prefix are
	// on the link, reachable without a router.
	OnLink bool

	// Autonomous (the A flag) tells hosts to form an address in the
	// prefix by themselves (SLAAC).
	Autonomous bool

	// ValidLifetime and PreferredLifetime are sent in whole seconds;
	// zero means DefaultValidLifetime and DefaultPreferredLifetime, and
	// Infinity means never expires. PreferredLifetime must not exceed
	// ValidLifetime.
	ValidLifetime, PreferredLifetime time.Duration
}

func (p Prefix) lifetimes() (valid, preferred time.Duration) {
	valid, preferred = p.ValidLifetime, p.PreferredLifetime
	if valid == 0 {
		valid = DefaultValidLifetime
	}
	if preferred == 0 {
		preferred = DefaultPreferredLifetime
		if preferred > valid {
			preferred = valid
		}
	}
	return valid, preferred
}

// Server sends router advertisements on one interface. Its zero value
// (with Interface set) answers solicitations with an advertisement that
// carries no router, no prefix and no DHCPv6 flag. Set the fields before
// ListenAndServe; they must not change after.
type Server struct {
	// Interface names the interface to advertise on (required).
	Interface string

	// Managed and Other set the M and O flags (RFC 4861 §4.2): addresses,
	// or only other configuration, from DHCPv6. Both false tells hosts
	// that there is no DHCPv6 to ask. A stateful DHCPv6 server goes with
	// Managed (hosts also ask it for other configuration), a stateless
	// one with Other.
	Managed, Other bool

	// Prefixes are sent as prefix information options, in order.
	Prefixes []Prefix

	// DNS lists recursive DNS servers for the RDNSS option (RFC 8106);
	// empty sends none. DNSLifetime zero means DefaultDNSLifetime.
	DNS         []netip.Addr
	DNSLifetime time.Duration

	// RouterLifetime above zero makes this machine a default router for
	// that long (at most MaxRouterLifetime); zero, the default, says it
	// is not one.
	RouterLifetime time.Duration

	// MaxInterval above zero turns on unsolicited advertisements, sent
	// at random intervals between MinInterval and MaxInterval (RFC 4861
	// §6.2.1: MaxInterval from 4 to 1800 s; MinInterval from 3 s to
	// 0.75 × MaxInterval, zero meaning 0.33 × MaxInterval, or 0.75 ×
	// MaxInterval when MaxInterval is below 9 s). Zero answers
	// solicitations only.
	MaxInterval, MinInterval time.Duration

	// Logger receives one line per advertisement sent (Info; Debug for
	// unsolicited ones) and per failed send (Warn); nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	conn   net.PacketConn
	closed bool
}

// seconds converts a lifetime to the 32-bit seconds of the wire,
// Infinity (or anything from 2^32-1 s up) to 0xffffffff.
func seconds(d time.Duration) uint32 {
	s := d / time.Second
	if d == Infinity || s >= 0xffffffff {
		return 0xffffffff
	}
	if s < 0 {
		return 0
	}
	return uint32(s)
}

// check reports a configuration that RFC 4861 does not allow.
func (s *Server) check() error {
	for _, p := range s.Prefixes {
		if !p.Prefix.IsValid() || !p.Prefix.Addr().Is6() || p.Prefix.Addr().Is4In6() {
			return fmt.Errorf("ra: prefix %v is not an IPv6 prefix", p.Prefix)
		}
		if v, pr := p.lifetimes(); pr > v {
			return fmt.Errorf("ra: prefix %v: preferred lifetime %v exceeds valid lifetime %v", p.Prefix, pr, v)
		}
	}
	for _, a := range s.DNS {
		if !a.Is6() || a.Is4In6() {
			return fmt.Errorf("ra: DNS server %v is not an IPv6 address", a)
		}
	}
	if s.RouterLifetime < 0 || s.RouterLifetime > MaxRouterLifetime {
		return fmt.Errorf("ra: router lifetime %v outside 0 to %v", s.RouterLifetime, MaxRouterLifetime)
	}
	if s.MaxInterval == 0 {
		return nil
	}
	if s.MaxInterval < MinMaxInterval || s.MaxInterval > MaxMaxInterval {
		return fmt.Errorf("ra: MaxInterval %v outside %v to %v", s.MaxInterval, MinMaxInterval, MaxMaxInterval)
	}
	if lo, hi := s.intervals(); lo < MinMinInterval || lo > hi*3/4 {
		return fmt.Errorf("ra: MinInterval %v outside %v to 0.75 × MaxInterval", lo, MinMinInterval)
	}
	if s.RouterLifetime != 0 && s.RouterLifetime < s.MaxInterval {
		return fmt.Errorf("ra: router lifetime %v below MaxInterval %v", s.RouterLifetime, s.MaxInterval)
	}
	return nil
}

// intervals returns MinInterval (with its default) and MaxInterval.
func (s *Server) intervals() (lo, hi time.Duration) {
	lo, hi = s.MinInterval, s.MaxInterval
	if lo == 0 {
		lo = hi * 33 / 100
		if hi < 9*time.Second {
			lo = hi * 3 / 4
		}
		lo = max(lo, MinMinInterval)
	}
	return lo, hi
}

// Advertisement returns the router advertisement s sends from the
// interface with hardware address mac (nil leaves out the source
// link-layer address option). Prefixes that are not IPv6 are left out;
// ListenAndServe refuses them.
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
		0, flags, 0, 0, // hop limit unspecified, flags, router lifetime
		0, 0, 0, 0, // reachable time: unspecified
		0, 0, 0, 0, // retrans timer: unspecified
	}
	binary.BigEndian.PutUint16(msg[6:], uint16(min(seconds(s.RouterLifetime), uint32(MaxRouterLifetime/time.Second))))
	if len(mac) > 0 {
		// Source link-layer address, padded to a multiple of 8 bytes.
		n := (2 + len(mac) + 7) / 8 * 8
		msg = append(msg, 1, byte(n/8))
		msg = append(msg, mac...)
		msg = append(msg, make([]byte, n-2-len(mac))...)
	}
	for _, p := range s.Prefixes {
		if !p.Prefix.IsValid() || !p.Prefix.Addr().Is6() || p.Prefix.Addr().Is4In6() {
			continue
		}
		var pf byte
		if p.OnLink {
			pf |= 0x80
		}
		if p.Autonomous {
			pf |= 0x40
		}
		valid, preferred := p.lifetimes()
		msg = append(msg, 3, 4, byte(p.Prefix.Bits()), pf)
		msg = binary.BigEndian.AppendUint32(msg, seconds(valid))
		msg = binary.BigEndian.AppendUint32(msg, seconds(preferred))
		msg = append(msg, 0, 0, 0, 0) // reserved
		a := p.Prefix.Masked().Addr().As16()
		msg = append(msg, a[:]...)
	}
	var dns []netip.Addr
	for _, a := range s.DNS {
		if a.Is6() && !a.Is4In6() {
			dns = append(dns, a)
		}
	}
	// At most 127 addresses fit the option's length byte (1 + 2n units).
	if len(dns) > 127 {
		dns = dns[:127]
	}
	if len(dns) > 0 {
		lifetime := s.DNSLifetime
		if lifetime == 0 {
			lifetime = DefaultDNSLifetime
		}
		msg = append(msg, 25, byte(1+2*len(dns)), 0, 0)
		msg = binary.BigEndian.AppendUint32(msg, seconds(lifetime))
		for _, a := range dns {
			b := a.As16()
			msg = append(msg, b[:]...)
		}
	}
	return msg
}

// ListenAndServe sends advertisements until Close or Shutdown, then
// returns ErrServerClosed. It returns an error at once when the fields
// break a rule of RFC 4861 (see [Server] for the ranges).
func (s *Server) ListenAndServe() error {
	if err := s.check(); err != nil {
		return err
	}
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
	send := func() error {
		_, err := p.WriteTo(msg, &ipv6.ControlMessage{IfIndex: ifi.Index, HopLimit: 255}, allNodes)
		return err
	}

	if s.MaxInterval > 0 {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		defer wg.Wait()
		defer close(stop)
		go func() {
			defer wg.Done()
			s.periodic(stop, send, log, ifi.Name)
		}()
	}

	buf := make([]byte, 1500)
	for {
		n, cm, src, err := p.ReadFrom(buf)
		if err != nil {
			return s.closedOr(fmt.Errorf("ra: %w", err))
		}
		if n < 8 || buf[0] != byte(ipv6.ICMPTypeRouterSolicitation) || buf[1] != 0 || cm == nil || cm.IfIndex != ifi.Index {
			continue
		}
		if err := send(); err != nil {
			log.Warn("router advertisement", "iface", ifi.Name, "err", err)
			continue
		}
		log.Info("answered router solicitation", "iface", ifi.Name, "peer", src)
	}
}

// periodic sends unsolicited advertisements (RFC 4861 §6.2.4) until stop
// is closed.
func (s *Server) periodic(stop <-chan struct{}, send func() error, log *slog.Logger, iface string) {
	lo, hi := s.intervals()
	t := time.NewTimer(0)
	defer t.Stop()
	for sent := 0; ; sent++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := send(); err != nil {
			log.Warn("unsolicited router advertisement", "iface", iface, "err", err)
		} else {
			log.Debug("unsolicited router advertisement", "iface", iface)
		}
		next := lo + rand.N(hi-lo+1)
		if sent+1 < maxInitialAdvertisements {
			next = min(next, maxInitialInterval)
		}
		t.Reset(next)
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
