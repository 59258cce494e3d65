package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/lograte"
	"golang.org/x/net/ipv4"
)

// ErrServerClosed is returned by [Server.Serve] and
// [Server.ListenAndServe] after [Server.Shutdown] or [Server.Close].
var ErrServerClosed = errors.New("dhcp: server closed")

// Well-known ports: DHCP server and client (RFC 2131 §4.1) and the PXE
// boot server port of proxyDHCP (PXE 2.1 §2.2.4).
const (
	ServerPort = 67
	ClientPort = 68
	PXEPort    = 4011
)

// Server answers DHCP requests as a proxyDHCP server (Pool nil) or a full
// DHCP server (Pool set), handing boot decisions from Decider to PXE and
// UEFI HTTP boot clients.
//
// As proxyDHCP it answers only boot clients: a DISCOVER on port 67 with an
// OFFER that carries no address, and a REQUEST on port 4011 (or naming this
// server in option 54) with an ACK. It stays silent to every other client,
// so it runs beside the DHCP server that hands out addresses, and several
// replicas can serve one segment.
//
// As full DHCP server it implements RFC 2131 DISCOVER, REQUEST (selecting,
// init-reboot, renewing, rebinding), DECLINE, RELEASE and INFORM with NAKs
// where §4.3.2 asks for them, and adds boot options for boot clients.
//
// The server learns each datagram's arrival interface and destination
// from IP_PKTINFO control messages, answers from its address on that
// interface (which also becomes siaddr and option 54), and sends broadcast
// replies out of that interface only. Replies go where RFC 2131 §4.1 says:
// to the relay in giaddr (port 67), to ciaddr, or broadcast (always for a
// NAK or when the client set the broadcast flag; also instead of unicast
// to an address the client does not have yet, which the RFC allows).
//
// Hostile or malformed datagrams are dropped, counted in [Stats] and
// logged at debug level, rate limited (see Logger). The zero value is a
// proxyDHCP server that boots nobody; set Decider. Fields must not change
// once serving; the methods are safe for concurrent use.
type Server struct {
	// Decider makes the boot decision for boot clients; nil boots no one.
	Decider Decider

	// Pool makes this a full DHCP server; nil means proxyDHCP (unless
	// Pools is set).
	Pool *Pool

	// Pools are further pools of a full DHCP server, one per subnet,
	// beside Pool (which may be nil): one server for several segments
	// and relayed subnets. A relayed request is served from the pool
	// whose subnet holds its link: option 118 (subnet selection, RFC
	// 3011), else option 82 sub-option 5 (link selection, RFC 3527),
	// else the relay's giaddr; a request that is not
	// relayed from the pool whose subnet holds the server's address on
	// the arrival interface (the first such pool, Pool first); requests
	// from a subnet without a pool are not answered. Pools may share a
	// LeaseStore: each takes the leases of its own subnet.
	Pools []*Pool

	// Interface, when set, restricts the server to datagrams that arrive
	// on the interface of this name; ListenAndServe also binds its
	// sockets to it (SO_BINDTODEVICE).
	Interface string

	// ServerAddr, when valid, is used as server identifier and next-server
	// instead of the address of the arrival interface.
	ServerAddr netip.Addr

	// RememberFor is how long the boot decision for a client's MAC is
	// remembered, to answer its boot loader's own exchange that lacks the
	// PXE options (syslinux.efi's second DHCP, seconds after the
	// firmware's). Zero means 60 seconds; negative disables it. Only a
	// request that does not look like an operating system's DHCP client
	// is answered from memory (no vendor class, host name, client
	// identifier or FQDN, and no request for options 42, 119, 121, 249 or
	// 252): the booted system's own DISCOVER gets a plain lease.
	RememberFor time.Duration

	// Workers is the number of goroutines reading datagrams per
	// connection; zero means 4.
	Workers int

	// MaxPending bounds the requests that wait for the lease store at
	// once (full DHCP REQUEST, RELEASE, DECLINE with a Pool.Store); each
	// waits in its own goroutine so that readers keep answering, and
	// concurrent waits let the store batch its writes. Zero means 4096.
	// When the bound is reached readers wait too.
	MaxPending int

	// Logger receives one info line per reply sent ("dhcp: reply", with
	// the message type, the client's mac, yiaddr, the boot file, the
	// destination and the arrival interface index), an error when the
	// lease store fails (the request is then not acknowledged; a warning
	// says when the store works again), a warning when the pool has no
	// address for a client, an info line per boot client that a full
	// DHCP server leases an address without boot options because the
	// Decider failed for it (once per MAC and hour), and debug lines for dropped
	// datagrams and for requests left unanswered because of an error;
	// nil discards.
	//
	// Lines caused by one datagram are rate limited per message and
	// sender address (the client's, a relay's, or 0.0.0.0 for clients
	// without an address), so that no client can flood the log: each
	// message passes 20 times per 10 s per sender, and the reply line
	// 1000 times; for each message and sender that was held back, one
	// line "MESSAGE: lines suppressed" with the count follows when the
	// 10 s are over, or at Shutdown or Close.
	Logger *slog.Logger

	// NoReplyLog leaves out Logger's info line per reply sent (the other
	// lines stay): for a program that writes its log from Hook's events
	// instead, with [events.LogHook].
	NoReplyLog bool

	// Hook, if set, is told about every decoded request (and whether it
	// came from a boot client), every reply sent and every request left
	// unanswered with the reason (see [events.Kind]), synchronously from
	// the goroutine handling the datagram: it must return quickly (put an
	// [events.Queue] in front of a slow consumer). Malformed datagrams are
	// reported without a MAC.
	Hook events.Hook

	// Balancer, if set, makes this one of several servers on a segment
	// (RFC 3074): a DISCOVER, INFORM, or REQUEST of a rebooting or
	// rebinding client whose hash bucket (see [LoadBalanceHash],
	// [BalanceKey]) it does not serve is left to the peer and reported to
	// Hook as ignored with [events.ReasonPeerBucket]. Messages that name
	// a server (option 54: REQUEST in SELECTING state, DECLINE, RELEASE)
	// and REQUESTs unicast by a renewing client are answered whatever
	// their bucket: they belong to the server they name or reach. Nil
	// answers every client. [Split] is a static split, [Failover] one
	// that follows which peers are alive.
	Balancer Balancer

	// BalanceSecs, if not zero, answers a client outside this server's
	// buckets once its secs field reaches this many seconds: the client
	// has waited that long, so its own server is probably down (RFC 3074
	// §4).
	BalanceSecs uint16

	mu      sync.Mutex
	conns   map[net.PacketConn]struct{}
	closed  bool
	wg      sync.WaitGroup
	baseCtx context.Context
	cancel  context.CancelFunc
	memo    memo
	// noBootNoted holds the clients told about at Info that they get an
	// address without boot options.
	noBootNoted macSet
	ifaces      ifaceCache
	stats       counters
	bindIndex   atomic.Int64 // index of Interface, 0 unknown

	limitOnce  sync.Once
	limit      lograte.Limiter // lines caused by a datagram, but replies
	replyLimit lograte.Limiter // "dhcp: reply" lines
}

// replyLogBurst is how many reply lines a sender address may cause per
// lograte interval: a boot storm of hundreds of clients behind one relay
// (or all without an address yet) is logged in full, a flood is not.
const replyLogBurst = 1000

// logPacket writes a line caused by a datagram from peer, rate limited
// per message and peer (reply lines by lim = &s.replyLimit).
func (s *Server) logPacket(ctx context.Context, lim *lograte.Limiter, level slog.Level, peer netip.Addr, msg string, args ...any) {
	log := s.logger()
	if !log.Enabled(ctx, level) {
		return
	}
	s.limitOnce.Do(func() { s.replyLimit.Burst = replyLogBurst })
	lim.Log(ctx, log, level, peer, msg, args...)
}

// flushLogs writes the summaries of the lines held back.
func (s *Server) flushLogs() {
	s.limitOnce.Do(func() { s.replyLimit.Burst = replyLogBurst })
	s.limit.Flush()
	s.replyLimit.Flush()
}

// Stats counts what a server has done since it started.
type Stats struct {
	Received  uint64 // datagrams read
	Malformed uint64 // dropped: not a well-formed request
	Ignored   uint64 // well-formed, deliberately not answered
	Replied   uint64 // replies sent
	Errors    uint64 // replies that could not be built, stored or sent

	// StoreErrors counts the requests the lease store failed on (also
	// counted in Errors): left unanswered, or counted in FromMemory too.
	StoreErrors uint64

	// FromMemory counts the REQUESTs acknowledged while a shared store
	// failed, for the time left of a lease this server holds (see [Pool]).
	FromMemory uint64
}

type counters struct {
	received, malformed, ignored, replied, errors, storeErrors atomic.Uint64
	storeFailing                                               atomic.Bool
	fromMemory                                                 atomic.Uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Received:  s.stats.received.Load(),
		Malformed: s.stats.malformed.Load(),
		Ignored:   s.stats.ignored.Load(),
		Replied:   s.stats.replied.Load(),
		Errors:    s.stats.errors.Load(),

		StoreErrors: s.stats.storeErrors.Load(),
		FromMemory:  s.stats.fromMemory.Load(),
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// errNoServer is returned by Serve and ListenAndServe where the server
// cannot run.
var errNoServer = fmt.Errorf("dhcp: the server needs Linux (IP_PKTINFO, SO_BINDTODEVICE): %w", errors.ErrUnsupported)

func (s *Server) start() (context.Context, error) {
	if !serverSupported {
		return nil, errNoServer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	if s.baseCtx == nil {
		s.baseCtx, s.cancel = context.WithCancel(context.Background())
		s.conns = make(map[net.PacketConn]struct{})
	}
	return s.baseCtx, nil
}

// ListenAndServe listens on the UDP address addr (":67" when empty) and
// serves it. A proxyDHCP server listening on port 67 also listens on port
// 4011 of the same host. It returns when a socket fails or with
// [ErrServerClosed] after Shutdown or Close.
func (s *Server) ListenAndServe(addr string) error {
	if addr == "" {
		addr = ":" + strconv.Itoa(ServerPort)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if s.Interface != "" {
		ifi, err := net.InterfaceByName(s.Interface)
		if err != nil {
			return err
		}
		s.bindIndex.Store(int64(ifi.Index))
	}
	addrs := []string{addr}
	if !s.full() && port == strconv.Itoa(ServerPort) {
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(PXEPort)))
	}
	var conns []net.PacketConn
	for _, a := range addrs {
		c, err := Listen(s.Interface, a)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return err
		}
		conns = append(conns, c)
	}
	errc := make(chan error, len(conns))
	for _, c := range conns {
		go func() { errc <- s.Serve(c) }()
	}
	first := <-errc
	if !errors.Is(first, ErrServerClosed) {
		for _, c := range conns {
			c.Close()
		}
	}
	for range len(conns) - 1 {
		<-errc
	}
	return first
}

// Listen opens the UDP socket of a DHCP server on addr ("host:port",
// ":67" when empty) for [Server.Serve]: address reuse and broadcast
// allowed, a receive buffer of 4 MiB that rides out the bursts of a boot
// storm (beyond net.core.rmem_max when run as root), and bound to the
// interface iface when iface is not empty (SO_BINDTODEVICE, as
// [Server.Interface] asks). Binding first and serving later lets a caller
// report a missing privilege or a port in use before it announces
// anything; [Server.ListenAndServe] is Listen followed by Serve (and, for
// a proxyDHCP server on port 67, the same for port 4011). It opens the
// socket in the network namespace of the calling thread. On systems
// other than Linux it returns an error that wraps
// [errors.ErrUnsupported].
func Listen(iface, addr string) (net.PacketConn, error) {
	if addr == "" {
		addr = ":" + strconv.Itoa(ServerPort)
	}
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setSockopts(fd, iface) }); err != nil {
			return err
		}
		return serr
	}}
	return lc.ListenPacket(context.Background(), "udp4", addr)
}

// LoadPools readies every pool of a full DHCP server as Serve does before
// it reads a datagram: it checks the ranges, finds each pool's subnet on
// the served interfaces (see [Pool.Subnet]) and loads the leases from
// the pool's store. A caller that binds first ([Listen]) calls it before
// Serve to report a bad range or an unreadable lease file before it
// announces anything. It runs once per pool: later calls, and Serve,
// return the first result. It looks up interfaces in the network
// namespace of the calling thread.
func (s *Server) LoadPools(ctx context.Context) error {
	for _, p := range s.pools() {
		if err := p.initOn(ctx, s.Interface, true); err != nil {
			return err
		}
	}
	return nil
}

// Serve answers the requests that arrive on conn until conn fails or the
// server is shut down, then returns the error (ErrServerClosed after
// Shutdown or Close). With a *net.UDPConn it uses IP_PKTINFO to learn each
// datagram's interface and destination and to send replies out of that
// interface; with another PacketConn it answers from conn's address and
// sends every reply to the address it would use, without interface
// control. Serve enables SO_BROADCAST on UDP sockets, and always closes
// conn before it returns. It readies the pools first (see
// [Server.LoadPools]). With Interface set it learns the interface's
// index through a UDP conn, in the network namespace conn was opened in,
// so that a socket from [Listen] may be served from any goroutine.
func (s *Server) Serve(conn net.PacketConn) error {
	defer conn.Close()
	ctx, err := s.start()
	if err != nil {
		return err
	}
	if err := s.LoadPools(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()

	sc := &serverConn{conn: conn}
	if uc, ok := conn.(*net.UDPConn); ok {
		if s.Interface != "" && s.bindIndex.Load() == 0 {
			// Through the socket: its namespace's interface, whichever
			// goroutine serves it (see Listen).
			if rc, err := uc.SyscallConn(); err == nil {
				_ = rc.Control(func(fd uintptr) {
					if i := socketIfIndex(fd, s.Interface); i > 0 {
						s.bindIndex.CompareAndSwap(0, int64(i))
					}
				})
			}
		}
		if rc, err := uc.SyscallConn(); err == nil {
			_ = rc.Control(setBroadcast)
		}
		// ipv4.PacketConn turns IP_PKTINFO on; the datagrams are then read
		// with ReadMsgUDPAddrPort, which also yields ipi_spec_dst.
		if err := ipv4.NewPacketConn(uc).SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err == nil {
			sc.udp = uc
		}
	}
	if s.Interface != "" && s.bindIndex.Load() == 0 {
		ifi, err := net.InterfaceByName(s.Interface)
		if err != nil {
			return err
		}
		s.bindIndex.Store(int64(ifi.Index))
	}
	if la, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		sc.localPort = la.Port
		if a, ok := netip.AddrFromSlice(la.IP); ok {
			sc.localAddr = a.Unmap()
		}
	}

	workers := s.Workers
	if workers <= 0 {
		workers = 4
	}
	pending := s.MaxPending
	if pending <= 0 {
		pending = 4096
	}
	sc.sem = make(chan struct{}, pending)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- s.loop(ctx, sc)
		}()
	}
	wg.Wait()
	sc.wg.Wait()
	close(errc)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

type serverConn struct {
	sem       chan struct{} // bounds requests waiting for the store
	wg        sync.WaitGroup
	conn      net.PacketConn
	udp       *net.UDPConn // set when IP_PKTINFO is enabled
	localAddr netip.Addr
	localPort int
	names     sync.Map // interface index → name
}

// ifName returns the name of interface index, "" for 0 or when unknown.
// With IP_PKTINFO it asks the kernel through the socket (SIOCGIFNAME), so
// that the name is the one in the socket's network namespace. Names are
// remembered: an interface renamed while serving keeps its old name.
func (sc *serverConn) ifName(index int) string {
	if index <= 0 {
		return ""
	}
	if v, ok := sc.names.Load(index); ok {
		return v.(string)
	}
	var name string
	if sc.udp != nil {
		if rc, err := sc.udp.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { name = socketIfName(fd, index) })
		}
	}
	if name == "" {
		if ifi, err := net.InterfaceByIndex(index); err == nil {
			name = ifi.Name
		}
	}
	if name != "" {
		sc.names.Store(index, name)
	}
	return name
}

// inbound describes where a datagram came from and arrived.
type inbound struct {
	src     netip.AddrPort
	dst     netip.Addr // destination address in the IP header, when known
	local   netip.Addr // the kernel's address for replies on ifIndex (ipi_spec_dst)
	ifIndex int        // arrival interface, when known
	port    int        // local port it arrived on
}

// pktinfo is a worker's IP_PKTINFO control message buffer for sending.
type pktinfo []byte

func (s *Server) loop(ctx context.Context, sc *serverConn) error {
	buf := make([]byte, MaxRequestSize+1)
	oob := make([]byte, 256)
	out := make([]byte, 0, 1500)
	pi := newPktinfo()
	for {
		var (
			n   int
			err error
			in  = inbound{port: sc.localPort}
		)
		if sc.udp != nil {
			var oobn int
			n, oobn, _, in.src, err = sc.udp.ReadMsgUDPAddrPort(buf, oob)
			if err == nil {
				parsePktinfo(oob[:oobn], &in)
			}
		} else {
			var src net.Addr
			n, src, err = sc.conn.ReadFrom(buf)
			if ua, ok := src.(*net.UDPAddr); ok {
				in.src = ua.AddrPort()
			}
		}
		if err != nil {
			// A closed conn ends the loop; so does any other read error
			// that is not a timeout, after closing conn for the others.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			sc.conn.Close()
			return err
		}
		in.src = netip.AddrPortFrom(in.src.Addr().Unmap(), in.src.Port())
		s.stats.received.Add(1)
		out = s.serveDatagram(ctx, sc, buf[:n], in, out[:0], pi)
	}
}

// serveDatagram handles one datagram and sends the reply, if any. It
// returns the reply buffer for reuse.
func (s *Server) serveDatagram(ctx context.Context, sc *serverConn, b []byte, in inbound, out []byte, pi pktinfo) []byte {
	if bi := s.bindIndex.Load(); bi != 0 && in.ifIndex != 0 && int64(in.ifIndex) != bi {
		s.stats.ignored.Add(1)
		return out
	}
	req, err := ParseRequest(b)
	if err != nil {
		s.stats.malformed.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelDebug, in.src.Addr(), "dhcp: dropped datagram", "peer", in.src, "len", len(b), "err", err)
		if s.Hook != nil {
			s.Hook.Observe(events.Event{Time: time.Now(), Proto: events.ProtoDHCP, Kind: events.KindIgnored, Addr: in.src.Addr(), Reason: events.ReasonMalformed, Err: err})
		}
		return out
	}
	srvAddr := s.serverAddr(sc, in)
	if s.stored() && sc.sem != nil {
		switch mt := msgType(req); mt {
		case dhcpv4.MessageTypeDiscover:
			if !s.shared() {
				break
			}
			fallthrough // an offer is a write to a shared store
		case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline:
			// These wait for the store: answer from a goroutine of their own.
			sc.sem <- struct{}{}
			sc.wg.Add(1)
			go func() {
				defer func() { <-sc.sem; sc.wg.Done() }()
				s.respond(ctx, sc, req, in, srvAddr, nil, newPktinfo())
			}()
			return out
		}
	}
	return s.respond(ctx, sc, req, in, srvAddr, out, pi)
}

// respond handles a decoded request and sends the reply, if any.
func (s *Server) respond(ctx context.Context, sc *serverConn, req *dhcpv4.DHCPv4, in inbound, srvAddr netip.Addr, out []byte, pi pktinfo) []byte {
	log := s.logger()
	ctx = WithArrival(ctx, Arrival{
		Interface:     in.ifIndex,
		InterfaceName: sc.ifName(in.ifIndex),
		Local:         srvAddr,
		Port:          in.port,
	})
	var ev events.Event // the client's side of every event of this request
	if s.Hook != nil {
		ev = clientEvent(req)
		s.emit(ev, events.KindRequest)
		if isBootClient(req) {
			s.emit(ev, events.KindIdentified)
		}
	}
	if !s.balanced(req, in) {
		s.stats.ignored.Add(1)
		if s.Hook != nil {
			e := ev
			e.Reason = events.ReasonPeerBucket
			s.emit(e, events.KindIgnored)
		}
		return out
	}
	reply, err := s.safeHandle(ctx, req, in, srvAddr)
	if s.Hook != nil && reply == nil {
		e := ev
		e.Reason, e.Err = events.ReasonError, err
		switch {
		case err == nil:
			e.Reason = s.ignoreReason(req, in, srvAddr)
		case errors.Is(err, ErrPoolExhausted):
			e.Reason = events.ReasonNoAddress
		case errors.As(err, new(*StoreError)):
			e.Reason = events.ReasonStoreFailed
		}
		s.emit(e, events.KindIgnored)
	}
	if serr, ok := errors.AsType[*StoreError](err); ok {
		s.stats.errors.Add(1)
		s.stats.storeErrors.Add(1)
		s.stats.storeFailing.Store(true)
		if reply == nil {
			s.logPacket(ctx, &s.limit, slog.LevelError, in.src.Addr(), "dhcp: lease store failed, request not acknowledged", "mac", req.ClientHWAddr.String(), "type", msgType(req), "addr", serr.Addr, "err", serr.Err)
			return out
		}
		// A lease this server holds, confirmed for its time left (Pool).
		s.stats.fromMemory.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelError, in.src.Addr(), "dhcp: lease store failed; lease acknowledged from memory for its time left, not extended", "mac", req.ClientHWAddr.String(), "type", msgType(req), "addr", serr.Addr, "err", serr.Err)
		err = nil
	} else if err == nil && s.stored() && s.stats.storeFailing.Load() && (storeWrites(req) || s.shared() && msgType(req) == dhcpv4.MessageTypeDiscover) {
		if s.stats.storeFailing.CompareAndSwap(true, false) {
			log.Warn("dhcp: lease store works again", "store_errors", s.stats.storeErrors.Load())
		}
	}
	if errors.Is(err, ErrPoolExhausted) {
		s.stats.errors.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelWarn, in.src.Addr(), "dhcp: no address for client", "mac", req.ClientHWAddr.String(), "err", err)
		return out
	}
	if err != nil {
		s.stats.errors.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelDebug, in.src.Addr(), "dhcp: no reply", "mac", req.ClientHWAddr.String(), "type", msgType(req), "err", err)
		return out
	}
	if reply == nil {
		s.stats.ignored.Add(1)
		return out
	}
	out, err = AppendMessage(out, reply, maxReplySize(req))
	if err != nil {
		s.stats.errors.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelDebug, in.src.Addr(), "dhcp: cannot encode reply", "mac", req.ClientHWAddr.String(), "err", err)
		if s.Hook != nil {
			s.emit(ignored(ev, err), events.KindIgnored)
		}
		return out[:0]
	}
	dst := replyDest(req, reply, in)
	if err := sc.send(out, dst, in.ifIndex, srvAddr, pi); err != nil {
		s.stats.errors.Add(1)
		s.logPacket(ctx, &s.limit, slog.LevelDebug, in.src.Addr(), "dhcp: send failed", "mac", req.ClientHWAddr.String(), "to", dst, "err", err)
		if s.Hook != nil {
			s.emit(ignored(ev, err), events.KindIgnored)
		}
		return out
	}
	s.stats.replied.Add(1)
	if s.Hook != nil {
		s.emit(replyEvent(ev, reply), events.KindReply)
	}
	if !s.NoReplyLog && log.Enabled(ctx, slog.LevelInfo) {
		s.logPacket(ctx, &s.replyLimit, slog.LevelInfo, in.src.Addr(), "dhcp: reply", "type", msgType(reply), "mac", req.ClientHWAddr.String(), "yiaddr", reply.YourIPAddr, "file", reply.BootFileName, "to", dst, "ifindex", in.ifIndex)
	}
	return out
}

// storeWrites reports whether answering req may write to the lease store.
func storeWrites(req *dhcpv4.DHCPv4) bool {
	switch msgType(req) {
	case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline:
		return true
	}
	return false
}

// safeHandle is handle, with a panic (in a Decider or LeaseStore) turned
// into an error so that it never stops the server.
func (s *Server) safeHandle(ctx context.Context, req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) (r *dhcpv4.DHCPv4, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("dhcp: panic while handling a request: %v", p)
		}
	}()
	return s.handle(ctx, req, in, srv)
}

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

// pools returns Pool and Pools, the pools of a full DHCP server.
func (s *Server) pools() []*Pool {
	if s.Pool == nil {
		return s.Pools
	}
	if len(s.Pools) == 0 {
		return []*Pool{s.Pool}
	}
	return append([]*Pool{s.Pool}, s.Pools...)
}

// full reports whether s is a full DHCP server.
func (s *Server) full() bool { return s.Pool != nil || len(s.Pools) > 0 }

// stored reports whether a pool of s has a lease store.
func (s *Server) stored() bool {
	if s.Pool != nil && s.Pool.Store != nil {
		return true
	}
	for _, p := range s.Pools {
		if p.Store != nil {
			return true
		}
	}
	return false
}

// shared reports whether a pool of s has a shared store ([Allocator]).
func (s *Server) shared() bool {
	for _, p := range s.pools() {
		if p.allocator() != nil {
			return true
		}
	}
	return false
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

// Shutdown stops the server: it closes the sockets, so no new request is
// read, then waits for the requests in progress to be answered or ctx to
// end. Serve returns ErrServerClosed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeConns()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelCtx()
		s.flushLogs()
		return nil
	case <-ctx.Done():
		s.cancelCtx()
		s.flushLogs()
		return ctx.Err()
	}
}

// Close stops the server at once: sockets are closed and the context of
// requests in progress is cancelled. Serve returns ErrServerClosed.
func (s *Server) Close() error {
	s.closeConns()
	s.cancelCtx()
	s.flushLogs()
	return nil
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) cancelCtx() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
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
