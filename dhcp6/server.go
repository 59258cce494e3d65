package dhcp6

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
	"golang.org/x/net/ipv6"
)

// ErrServerClosed is returned by [Server.Serve] and
// [Server.ListenAndServe] after [Server.Shutdown] or [Server.Close].
var ErrServerClosed = errors.New("dhcp6: server closed")

// AllServers is ff02::1:2, All_DHCP_Relay_Agents_and_Servers (RFC 8415
// §7.1), the group a server joins on every interface it serves.
var AllServers = netip.MustParseAddr("ff02::1:2")

// Server answers DHCPv6 boot clients, in one of two modes.
//
// # Stateless
//
// Without a Pool, the Server is the v6 counterpart of proxyDHCP: it
// gives no addresses, only boot options (59, 60, and vendor class 16
// "HTTPClient" for UEFI HTTP boot), beside SLAAC or another DHCPv6
// server that assigns the addresses.
//
//   - Solicit gets an Advertise with the boot options; when it asked for
//     IA_NA, each IA_NA comes back holding status NoAddrsAvail (RFC 8415
//     §21.13), so that a client that needs an address keeps looking.
//   - Request, Renew, Rebind and Information-Request get a Reply with the
//     boot options.
//   - A request that [Decider] turns down with [ErrNoBoot] gets no
//     answer, nor does one addressed to another server (option 2).
//
// # Stateful
//
// With a [Pool], the Server assigns addresses (IA_NA, RFC 8415 §18.3)
// and adds the boot options for boot clients: Solicit gets an Advertise
// with an address held for the client, or, when it carries Rapid Commit
// (option 14) and the Pool allows it, a Reply with the lease
// (§18.3.1); Request, Renew and Rebind get a Reply with the lease saved
// first; Release and Decline end a lease (a declined address is kept
// from everybody for a while); Confirm is answered Success or NotOnLink
// against the Pool's prefix; Information-Request gets the boot options
// and DNS servers. A client is its DUID; its MAC, stored with the lease
// and logged, comes from a DUID-LL/LLT or from option 79 of the relay
// closest to it (RFC 6939), or else from the client's link-local source
// address when that is a modified EUI-64 one. Clients the Decider turns down with
// [ErrNoBoot] get addresses without boot options. A request that a
// lease store failure leaves unsaved is not answered.
//
// # Both
//
// Relayed requests (Relay-Forward, nested) are answered with a
// Relay-Reply to the relay. Replies leave from the interface the request
// came in on (IPV6_PKTINFO) to the client's link-local address, so the
// kernel chooses the interface's link-local address as the source.
//
// The zero Server answers nothing useful (a nil Decider is an error per
// request); set Decider, usually an *nbp.Policy. A Server is safe for
// concurrent use; its fields must not change after Serve starts.
type Server struct {
	// Decider chooses each client's boot URL.
	Decider Decider

	// Hook, if set, is told what the server does, as [events.Event]
	// values of [events.ProtoDHCP], the kinds [dhcp.Server] reports:
	// every decoded request (KindRequest, Type "SOLICIT", "REQUEST", …,
	// MAC from the DUID, the relay's option 79 or the link-local
	// address), a boot client (KindIdentified: option 61 or a PXE/HTTP
	// vendor class, with Arch and Firmware), the reply sent (KindReply:
	// File the boot URL, Addr the address given in an IA_NA) or a request
	// left unanswered (KindIgnored with a Reason), so that a timeline
	// joins a v6 machine's transfers to its MAC. It is called from the
	// worker that handles the request and must not block (see
	// [events.Queue]).
	Hook events.Hook

	// NoReplyLog leaves out Logger's info lines per request answered or
	// left unanswered (the lease lines stay): for a program that writes
	// its log from Hook's events instead, with [events.LogHook].
	NoReplyLog bool

	// Interface, when set, is the only interface served: Serve joins
	// ff02::1:2 on it alone and ignores requests from elsewhere. Empty:
	// Serve joins the group on every up, multicast-capable interface.
	Interface string

	// ServerAddr, when valid, is the address boot URLs name
	// ([Arrival.Local]). Invalid: a global or ULA address of the arrival
	// interface, else its link-local address.
	ServerAddr netip.Addr

	// ServerID is the server's DUID (option 2). Zero: a DUID-LL of
	// Interface's MAC address (without Interface, of the first interface
	// that is up and not loopback), so that it stays the same across
	// restarts, or else a DUID-UUID made up when Serve first runs.
	ServerID DUID

	// Pool, when set, makes the Server stateful: it assigns addresses
	// from the Pool. Nil: stateless, boot options only.
	Pool *Pool

	// Workers is how many requests are answered at once (each may wait
	// for the lease store); zero means 256.
	Workers int

	// Logger receives one record per answered or refused request; nil
	// discards.
	Logger *slog.Logger

	mu       sync.Mutex
	conns    map[net.PacketConn]struct{}
	closed   atomic.Bool
	serverID dhcpv6.DUID
	active   sync.WaitGroup
	locals   sync.Map // interface index → cachedAddr
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ListenAndServe listens on addr ("[::]:547" when empty) and calls
// [Server.Serve].
func (s *Server) ListenAndServe(addr string) error {
	if s.closed.Load() {
		return ErrServerClosed
	}
	if addr == "" {
		addr = "[::]:547"
	}
	c, err := listen(addr, s.Interface)
	if err != nil {
		return fmt.Errorf("dhcp6: %w", err)
	}
	return s.Serve(c)
}

// Serve answers requests on conn, a UDP socket on port 547, until
// Shutdown or Close, and then returns [ErrServerClosed]. It joins
// ff02::1:2 on the served interfaces and turns on IPV6_PKTINFO. Serve
// closes conn when it returns.
func (s *Server) Serve(conn net.PacketConn) error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		conn.Close()
		return ErrServerClosed
	}
	if s.conns == nil {
		s.conns = make(map[net.PacketConn]struct{})
	}
	s.conns[conn] = struct{}{}
	s.active.Add(1)
	s.mu.Unlock()
	defer s.active.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()

	pc := ipv6.NewPacketConn(conn)
	if err := pc.SetControlMessage(ipv6.FlagInterface|ipv6.FlagDst, true); err != nil {
		return fmt.Errorf("dhcp6: IPV6_PKTINFO: %w", err)
	}
	ifIndex, err := s.join(conn, pc)
	if err != nil {
		return err
	}
	if err := s.initServerID(); err != nil {
		return err
	}
	if s.Pool != nil {
		if err := s.Pool.load(context.Background()); err != nil {
			return err
		}
	}
	workers := s.Workers
	if workers <= 0 {
		workers = 256
	}
	// The reader hands datagrams to the workers, which may wait for the
	// lease store: concurrent saves are what a FileStore batches into
	// one fsync. A datagram that finds the queue full is dropped, as
	// the kernel would drop it from a full socket buffer.
	work := make(chan packet, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]byte, 0, 1500)
			for p := range work {
				out = s.answer(pc, p, out)
				packets.Put(p.buf)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for {
		bp := packets.Get().(*[]byte)
		n, cm, peer, err := pc.ReadFrom(*bp)
		if err != nil {
			packets.Put(bp)
			if s.closed.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("dhcp6: read: %w", err)
		}
		in := 0
		if cm != nil {
			in = cm.IfIndex
		}
		ua, ok := peer.(*net.UDPAddr)
		if (ifIndex != 0 && in != 0 && in != ifIndex) || !ok {
			packets.Put(bp)
			continue
		}
		select {
		case work <- packet{buf: bp, n: n, ifIndex: in, peer: ua}:
		default:
			packets.Put(bp)
			s.logger().Debug("dhcp6: busy, request dropped", "peer", ua.String())
		}
	}
}

// packet is one datagram read, waiting for a worker.
type packet struct {
	buf     *[]byte
	n       int
	ifIndex int
	peer    *net.UDPAddr
}

// packets recycles the read buffers.
var packets = sync.Pool{New: func() any { b := make([]byte, 1500); return &b }}

// answer handles p and sends the reply, if any; out is the worker's send
// buffer, returned for reuse.
func (s *Server) answer(pc *ipv6.PacketConn, p packet, out []byte) []byte {
	reply := s.handle(context.Background(), (*p.buf)[:p.n], p.ifIndex, p.peer)
	if reply == nil {
		return out
	}
	out = append(out[:0], reply.ToBytes()...)
	dst := *p.peer
	if dst.IP.IsLinkLocalUnicast() && p.ifIndex != 0 {
		dst.Zone = ""
	}
	if _, err := pc.WriteTo(out, &ipv6.ControlMessage{IfIndex: p.ifIndex}, &dst); err != nil {
		s.logger().Warn("dhcp6: send", "peer", p.peer.String(), "err", err)
	}
	return out
}

// join joins ff02::1:2 on the served interfaces and returns the index of
// Interface (0 when all are served).
func (s *Server) join(conn net.PacketConn, pc *ipv6.PacketConn) (int, error) {
	group := &net.UDPAddr{IP: AllServers.AsSlice()}
	if s.Interface != "" {
		idx := ifIndexOf(conn, s.Interface)
		if idx == 0 {
			return 0, fmt.Errorf("dhcp6: no interface %q", s.Interface)
		}
		if err := pc.JoinGroup(&net.Interface{Index: idx}, group); err != nil {
			return 0, fmt.Errorf("dhcp6: join %v on %s: %w", AllServers, s.Interface, err)
		}
		return idx, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return 0, fmt.Errorf("dhcp6: %w", err)
	}
	joined := 0
	for i := range ifs {
		f := ifs[i].Flags
		if f&net.FlagUp == 0 || f&net.FlagMulticast == 0 || f&net.FlagLoopback != 0 {
			continue
		}
		if pc.JoinGroup(&ifs[i], group) == nil {
			joined++
		}
	}
	if joined == 0 {
		s.logger().Warn("dhcp6: joined ff02::1:2 on no interface; only unicast requests arrive")
	}
	return 0, nil
}

// stableMAC returns the Ethernet address of the interface name, or, when
// name is empty, of the first interface that is up and not loopback:
// a DUID-LL of it names the server the same way across restarts (RFC
// 8415 §11), which a client's Renew relies on. Nil when there is none.
func stableMAC(name string) net.HardwareAddr {
	if name != "" {
		if ifi, err := net.InterfaceByName(name); err == nil && len(ifi.HardwareAddr) == 6 {
			return ifi.HardwareAddr
		}
		return nil
	}
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && len(ifi.HardwareAddr) == 6 {
			return ifi.HardwareAddr
		}
	}
	return nil
}

func (s *Server) initServerID() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serverID != nil {
		return nil
	}
	d := s.ServerID
	if d.Type == 0 {
		if mac := stableMAC(s.Interface); mac != nil {
			d = DUID{Type: DUIDLL, HWType: uint16(iana.HWTypeEthernet), LinkLayer: mac}
		}
	}
	if d.Type == 0 {
		d = DUID{Type: DUIDUUID, ID: make([]byte, 16)}
		_, _ = rand.Read(d.ID)
	}
	b, err := d.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("dhcp6: ServerID: %w", err)
	}
	if s.serverID, err = dhcpv6.DUIDFromBytes(b); err != nil {
		return fmt.Errorf("dhcp6: ServerID: %w", err)
	}
	return nil
}

// handle decodes one datagram and returns the reply, nil for none.
func (s *Server) handle(ctx context.Context, b []byte, ifIndex int, peer *net.UDPAddr) dhcpv6.DHCPv6 {
	log := s.logger()
	pkt, err := dhcpv6.FromBytes(b)
	if err != nil {
		log.Debug("dhcp6: undecodable request", "peer", peer.String(), "err", err)
		return nil
	}
	var relay *dhcpv6.RelayMessage
	msg, ok := pkt.(*dhcpv6.Message)
	if !ok {
		r, ok := pkt.(*dhcpv6.RelayMessage)
		if !ok || r.MessageType != dhcpv6.MessageTypeRelayForward {
			return nil
		}
		if msg, err = r.GetInnerMessage(); err != nil {
			log.Debug("dhcp6: bad relayed request", "peer", peer.String(), "err", err)
			return nil
		}
		relay = r
	}
	var reply *dhcpv6.Message
	rq := request{msg: msg, ifIndex: ifIndex}
	if relay != nil {
		rq.relayMAC = relayClientMAC(relay)
	} else if a, ok := netip.AddrFromSlice(peer.IP); ok {
		rq.peer = a.Unmap()
	}
	var ev events.Event
	var boot bool
	if s.Hook != nil {
		ev, boot = clientEvent(msg, rq.relayMAC, rq.peer)
		s.emit(ev, events.KindRequest)
		if boot {
			s.emit(ev, events.KindIdentified)
		}
	}
	if s.Pool != nil {
		if err = s.Pool.load(ctx); err == nil {
			reply, err = s.respondStateful(ctx, rq)
		}
	} else {
		reply, err = s.respond(ctx, msg, ifIndex)
	}
	if err != nil {
		if !s.NoReplyLog {
			log.Info("dhcp6: no answer", "peer", peer.String(), "type", msg.MessageType.String(), "err", err)
		}
		if s.Hook != nil {
			ev.Reason, ev.Err = events.ReasonError, err
			if !boot {
				ev.Reason = events.ReasonNotBoot
			}
			s.emit(ev, events.KindIgnored)
		}
		return nil
	}
	if reply == nil {
		if s.Hook != nil {
			ev.Reason = events.ReasonNoReply
			s.emit(ev, events.KindIgnored)
		}
		return nil
	}
	if s.Hook != nil {
		s.emit(replyEvent(ev, reply), events.KindReply)
	}
	if !s.NoReplyLog && log.Enabled(ctx, slog.LevelInfo) {
		log.Info("dhcp6: answered", "peer", peer.String(), "type", reply.MessageType.String(), "url", reply.Options.BootFileURL())
	}
	if relay == nil {
		return reply
	}
	rr, err := dhcpv6.NewRelayReplFromRelayForw(relay, reply)
	if err != nil {
		log.Warn("dhcp6: relay reply", "err", err)
		return nil
	}
	return rr
}

// respond builds the answer to msg, nil for none.
func (s *Server) respond(ctx context.Context, msg *dhcpv6.Message, ifIndex int) (*dhcpv6.Message, error) {
	switch msg.MessageType {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew,
		dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeInformationRequest:
	default:
		return nil, nil
	}
	if msg.Options.ClientID() == nil && msg.MessageType != dhcpv6.MessageTypeInformationRequest {
		return nil, errors.New("no client identifier")
	}
	if sid := msg.Options.ServerID(); sid != nil && !sid.Equal(s.serverID) {
		return nil, nil // for another server
	}
	if msg.MessageType == dhcpv6.MessageTypeSolicit || msg.MessageType == dhcpv6.MessageTypeRebind {
		if msg.Options.ServerID() != nil {
			return nil, errors.New("server identifier in a multicast-only message")
		}
	}
	if s.Decider == nil {
		return nil, errors.New("no Decider")
	}
	boot, err := s.Decider.Decide6(WithArrival(ctx, s.arrival(ifIndex)), msg)
	if err != nil {
		return nil, err
	}
	// Built by hand: an Information-Request may lack a client
	// identifier (RFC 8415 §18.2.6), which dhcpv6.NewReplyFromMessage
	// refuses.
	reply := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply, TransactionID: msg.TransactionID}
	if msg.MessageType == dhcpv6.MessageTypeSolicit {
		reply.MessageType = dhcpv6.MessageTypeAdvertise
	}
	if cid := msg.Options.ClientID(); cid != nil {
		reply.AddOption(dhcpv6.OptClientID(cid))
	}
	reply.AddOption(dhcpv6.OptServerID(s.serverID))
	if msg.MessageType != dhcpv6.MessageTypeInformationRequest {
		for _, ia := range msg.Options.IANA() {
			reply.AddOption(&dhcpv6.OptIANA{IaId: ia.IaId, Options: dhcpv6.IdentityOptions{Options: dhcpv6.Options{
				&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail, StatusMessage: "boot options only"},
			}}})
		}
	}
	if err := AddBoot(reply, boot); err != nil {
		return nil, err
	}
	return reply, nil
}

// arrival describes the interface with index ifIndex for a Decider.
// The interface's address is looked up (a netlink dump) at most once
// per localTTL and interface.
func (s *Server) arrival(ifIndex int) Arrival {
	a := Arrival{Interface: ifIndex, InterfaceName: s.Interface, Local: s.ServerAddr}
	if a.Local.IsValid() {
		return a
	}
	now := time.Now()
	if v, ok := s.locals.Load(ifIndex); ok {
		if c := v.(cachedAddr); now.Sub(c.at) < localTTL {
			a.Local = c.addr
			return a
		}
	}
	a.Local = localAddr(ifIndex)
	s.locals.Store(ifIndex, cachedAddr{addr: a.Local, at: now})
	return a
}

// localTTL is how long an interface's address is remembered.
const localTTL = 5 * time.Second

type cachedAddr struct {
	addr netip.Addr
	at   time.Time
}

// AddBoot puts b into a reply: option 59, option 60 when b.Params is set,
// and vendor class 16 "HTTPClient" under enterprise 343 when b.HTTP is
// set.
func AddBoot(reply *dhcpv6.Message, b Boot) error {
	if _, err := BootFileURL(b.URL).AppendBinary(nil); err != nil {
		return err
	}
	reply.AddOption(dhcpv6.OptBootFileURL(b.URL))
	if len(b.Params) > 0 {
		if _, err := BootFileParams(b.Params).AppendBinary(nil); err != nil {
			return err
		}
		reply.AddOption(dhcpv6.OptBootFileParam(b.Params...))
	}
	if b.HTTP {
		reply.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: EnterprisePXE, Data: [][]byte{[]byte("HTTPClient")}})
	}
	return nil
}

// localAddr returns a global or ULA address of interface index, else its
// link-local address with the zone set; invalid when there is none.
func localAddr(index int) netip.Addr {
	if index == 0 {
		return netip.Addr{}
	}
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return netip.Addr{}
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}
	}
	var ll netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			continue
		}
		ad := p.Addr()
		if ad.IsLinkLocalUnicast() {
			if !ll.IsValid() {
				ll = ad.WithZone(ifi.Name)
			}
			continue
		}
		if ad.IsGlobalUnicast() {
			return ad
		}
	}
	return ll
}

// Shutdown stops the server: it closes the listening sockets, then waits
// until every Serve has returned or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeConns()
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server at once.
func (s *Server) Close() error {
	s.closeConns()
	return nil
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	for c := range s.conns {
		c.Close()
	}
}
