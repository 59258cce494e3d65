package tftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pxekit/pxekit/internal/lograte"
)

// ErrServerClosed is returned by [Server.Serve] and [Server.ListenAndServe]
// after [Server.Shutdown] or [Server.Close].
var ErrServerClosed = errors.New("tftp: server closed")

// Defaults for the zero values of [Server] fields.
const (
	DefaultMaxTransfers       = 1024
	DefaultMaxClientTransfers = 16
	DefaultTimeout            = 10 * time.Second
	DefaultMaxWindowSize      = 64
	// DefaultMaxWindowBytes bounds windowsize × blksize. A larger window is
	// negotiated down (RFC 7440 §3 lets the server answer a smaller value):
	// a burst must fit the receiver's socket buffer (208 KiB by default on
	// Linux, kernel overhead per datagram included), or blocks are lost
	// on every window even on loopback; 16 × 8192 did so with atftp.
	DefaultMaxWindowBytes = 64 << 10
	DefaultBusyPoll       = 50 * time.Microsecond
	// DefaultMaxClientTimeout is the largest RFC 2349 timeout option the
	// server acknowledges by default: clients send 1 to 5 s in practice.
	DefaultMaxClientTimeout = 5 * time.Second
	// DefaultLogBurst lines of one message per client address per
	// DefaultLogInterval are logged; see [Server.LogBurst].
	DefaultLogBurst    = lograte.DefaultBurst
	DefaultLogInterval = lograte.DefaultInterval
	// EvictAfter is how long a transfer must have gone without its first
	// block acknowledged before a new client may take its slot when the
	// server is full (see [Server.MaxTransfers]): the initial
	// retransmission timeout (RFC 6298's 1 s), after which the server has
	// sent its first packet again with no answer.
	EvictAfter = initialRTO
)

// Server is a read-only TFTP server. Its zero value serves nothing (every
// name is "file not found"); set FS and/or Files. Fields must not be
// changed after Serve is called. A Server is safe for concurrent use;
// Serve may be called on several connections at once.
type Server struct {
	// FS holds the files served. Names are cleaned by [CleanPath] first.
	// When FS implements [io/fs.ReadLinkFS] (as [os.DirFS] does), the
	// server resolves symbolic links itself, inside the root as in a
	// chroot: an absolute target starts at the root and ".." stops there,
	// so no link leads out (tftpd-hpa --secure's rule, and isofs' inside
	// an image), unless FS is a [RootedLinksFS] that says it keeps that
	// rule itself (an isofs image), which is then opened in one lookup.
	// Other file systems are trusted to resolve their own links inside
	// their own root. Directories are not served.
	FS fs.FS

	// Files, if set, generates files per request (see [FileSource]). By
	// default Files is asked first and FS serves the names it declines;
	// with FSFirst, FS is asked first and Files only sees names that FS
	// does not have.
	Files   FileSource
	FSFirst bool

	// CaseInsensitive makes a name that FS does not have match a file whose
	// name differs only in case (menus written for Windows servers). The
	// exact name always wins. Files sees the name as the client sent it
	// (cleaned).
	CaseInsensitive bool

	// Logger receives one line per transfer and per refused request; nil
	// discards. Size probes aborted by the client log at Debug, not-found
	// at Info, access violations and timeouts at Warn.
	Logger *slog.Logger

	// NoTransferLog leaves out Logger's line per transfer (refused
	// requests and server trouble are still logged): for a program that
	// writes its log from Hook's events instead, with [events.LogHook].
	NoTransferLog bool

	// LogBurst and LogInterval limit the lines that one client can cause,
	// so that a flood of requests cannot flood the log: at most LogBurst
	// lines of each message per client IP address in LogInterval (default
	// DefaultLogBurst, 20, per DefaultLogInterval, 10 s: a PXE client's
	// pxelinux config search takes about a dozen). When an interval ends,
	// one line says how many were suppressed (message "<message>: lines
	// suppressed", attributes client and suppressed). Beyond 4096 client
	// addresses in one interval, the rest share one allowance. A negative
	// LogBurst turns the limit off. [Hook] still sees every transfer.
	LogBurst    int
	LogInterval time.Duration

	// Hook, if set, is told about every transfer when it ends, and when
	// it begins if it is a [StartHook] too, and when its options are
	// agreed if it is an [OptionsHook] ([EventHook] is all three and
	// bridges to [events.Hook]).
	Hook Hook

	// MaxTransfers bounds concurrent transfers (default
	// DefaultMaxTransfers), and MaxClientTransfers those from one client
	// IP address (default DefaultMaxClientTransfers). A request over a
	// limit is dropped silently, so that the client retries it later.
	//
	// When MaxTransfers is reached, a request from a client address that
	// has no transfer takes the slot of the oldest transfer that has made
	// no progress (its first data block is not acknowledged) for at least
	// EvictAfter since its request; that transfer ends with an error
	// packet to its client and [OutcomeEvicted]. So a flood of requests
	// that are never acknowledged cannot lock other clients out for the
	// whole give-up time (see Timeout). A transfer whose client has
	// acknowledged a block is never evicted, nor is one evicted for a
	// client that already has a transfer.
	MaxTransfers       int
	MaxClientTransfers int

	// TransferTimeout ends a transfer that runs longer than this; zero
	// means no limit.
	TransferTimeout time.Duration

	// Timeout ends a transfer when the client acknowledges nothing new for
	// this long, whatever options the client sent (default: the longest of
	// DefaultTimeout, twice the longest back-off below, and twice
	// MaxClientTimeout: 12 s with the defaults). Retransmission itself is
	// adaptive: the interval follows the measured round-trip time (RFC
	// 6298's estimator, 10 ms to 1 s, or to the client's RFC 2349
	// timeout), and doubles on each timeout up to 6 s (twice the client's
	// timeout if it sent one), so that a client waiting on its own timer
	// gets to retransmit its ACK.
	Timeout time.Duration

	// MaxClientTimeout is the largest RFC 2349 timeout option the server
	// takes (default DefaultMaxClientTimeout; negative: none). A larger
	// one is left out of the OACK, which RFC 2349 requires to repeat the
	// client's value, so the server keeps its own retransmission timer.
	// Either way a client cannot stretch Timeout.
	MaxClientTimeout time.Duration

	// MaxBlockSize caps the blksize option (RFC 2348); zero means the RFC's
	// 65464. Values below 8 are taken as 8.
	MaxBlockSize int

	// MaxWindowSize caps the windowsize option (RFC 7440): default
	// DefaultMaxWindowSize; 1 turns windowed transfers off.
	// MaxWindowBytes caps windowsize × blksize (default
	// DefaultMaxWindowBytes).
	MaxWindowSize  int
	MaxWindowBytes int

	// RolloverToOne makes block numbers wrap from 65535 to 1 instead of 0,
	// for transfers of more than 65535 blocks. Clients differ: most accept
	// 0 (tftp-hpa, iPXE, curl, atftp); a client that sends the "rollover"
	// option gets the value it asks for.
	RolloverToOne bool

	// SinglePort answers every transfer from the port the request came to
	// (69), instead of a new port per transfer (RFC 1350 §4), for NAT and
	// containers. Serve also works this way when its connection is not a
	// *net.UDPConn.
	SinglePort bool

	// Interface, when set, restricts the server to requests that arrive
	// on the named network interface, as [dhcp.Server]'s field of the
	// same name does: ListenAndServe binds its socket to the interface
	// and every transfer's socket is bound to it too (SO_BINDTODEVICE,
	// Linux only), and Serve ignores requests whose arrival interface
	// (IP_PKTINFO / IPV6_PKTINFO) is another. Serve then needs a
	// [*net.UDPConn]. The interface is looked up when Serve starts, in
	// the network namespace of the calling thread.
	Interface string

	// BusyPoll is how long a transfer may poll its socket for an ACK
	// before it sleeps (Linux, not in SinglePort mode): zero means
	// DefaultBusyPoll, a negative value never polls, and values above
	// 1 ms are taken as 1 ms. Each transfer
	// measures whether polling makes its round trips faster and polls
	// only then, and only while fewer transfers run than GOMAXPROCS. It
	// pays for clients that answer within microseconds from another CPU
	// (the same host, a fast LAN) and costs up to this much CPU time per
	// round trip while it runs.
	BusyPoll time.Duration

	// readFirst makes every wait for an ACK start with a read, as it did
	// before a lock-step block and the wait for its ACK became one
	// exchange (link.go); BenchmarkStormBlock compares the two.
	readFirst bool
	// noEngine keeps lock-step transfers off the engine (engine_linux.go),
	// for benchmarks that compare the two.
	noEngine bool

	limOnce    sync.Once
	lim        *lograte.Limiter
	mu         sync.Mutex
	listeners  map[*listener]struct{}
	transfers  map[*session]struct{}
	perClient  map[netip.Addr]int
	fresh      sessionList // transfers whose first block is not acknowledged, oldest request first
	inShutdown atomic.Bool
	wg         sync.WaitGroup
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

func (s *Server) limiter() *lograte.Limiter {
	s.limOnce.Do(func() {
		s.lim = &lograte.Limiter{Burst: s.LogBurst, Interval: s.LogInterval}
	})
	return s.lim
}

// logPeer writes a line that peer caused, within the client's allowance
// (see LogBurst), and reports whether it was within it.
func (s *Server) logPeer(level slog.Level, peer netip.AddrPort, msg string, args ...any) bool {
	return s.limiter().Log(context.Background(), s.logger(), level, peer.Addr(), msg, args...)
}

func (s *Server) maxTransfers() int {
	if s.MaxTransfers > 0 {
		return s.MaxTransfers
	}
	return DefaultMaxTransfers
}

func (s *Server) maxClientTimeout() time.Duration {
	if s.MaxClientTimeout == 0 {
		return DefaultMaxClientTimeout
	}
	return s.MaxClientTimeout
}

// giveUp is how long a transfer waits without progress (see Timeout). It
// depends on the server's settings only, never on the client's options.
func (s *Server) giveUp() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return max(DefaultTimeout, 2*maxBackoff, 2*s.maxClientTimeout())
}

func (s *Server) maxClientTransfers() int {
	if s.MaxClientTransfers > 0 {
		return s.MaxClientTransfers
	}
	return DefaultMaxClientTransfers
}

// ListenAndServe listens on the UDP address addr (":69" if empty) and calls
// [Server.Serve].
func (s *Server) ListenAndServe(addr string) error {
	if s.inShutdown.Load() {
		return ErrServerClosed
	}
	if addr == "" {
		addr = ":69"
	}
	lc := net.ListenConfig{}
	if s.Interface != "" {
		lc.Control = s.bindControl
	}
	conn, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return err
	}
	return s.Serve(conn)
}

// Serve answers requests arriving on conn until [Server.Shutdown] or
// [Server.Close], then returns [ErrServerClosed]; it closes conn. Each
// transfer's socket is created on the goroutine that called Serve, bound
// to the address the request came to, so a Serve running inside a network
// namespace keeps its transfers there.
func (s *Server) Serve(conn net.PacketConn) error {
	l := &listener{s: s, conn: conn, active: make(map[netip.AddrPort]*session)}
	l.udp, _ = conn.(*net.UDPConn)
	l.single = s.SinglePort || l.udp == nil
	if s.Interface != "" {
		ifi, err := net.InterfaceByName(s.Interface)
		if err != nil {
			conn.Close()
			return fmt.Errorf("tftp: interface %q: %w", s.Interface, err)
		}
		if l.udp == nil {
			conn.Close()
			return fmt.Errorf("tftp: Interface %q needs a *net.UDPConn to tell where requests arrive", s.Interface)
		}
		l.ifIndex = ifi.Index
	}
	if l.udp != nil && (!l.single || l.ifIndex != 0) {
		if a, ok := l.udp.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
			l.p4 = ipv4.NewPacketConn(l.udp)
			if l.p4.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true) != nil {
				l.p4 = nil
			}
		} else {
			l.p6 = ipv6.NewPacketConn(l.udp)
			if l.p6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true) != nil {
				l.p6 = nil
			}
		}
	}
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		conn.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = make(map[*listener]struct{})
		s.transfers = make(map[*session]struct{})
		s.perClient = make(map[netip.Addr]int)
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		conn.Close()
	}()
	return l.serve()
}

// Shutdown stops accepting requests, waits for running transfers to end
// until ctx is done, then ends the rest (their clients get an error
// packet) and returns ctx's error. Serve returns [ErrServerClosed] at
// once, except in single-port mode, where it returns when its last
// transfer ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.stop()
	}
	s.mu.Unlock()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.transfers)
		s.mu.Unlock()
		if n == 0 {
			s.wg.Wait()
			s.limiter().Flush()
			return nil
		}
		select {
		case <-ctx.Done():
			s.cancelAll()
			s.wg.Wait()
			s.limiter().Flush()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close stops accepting requests and ends all transfers at once. It waits
// for their goroutines to exit, which takes no longer than a read of a
// block from FS.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.conn.Close()
	}
	s.mu.Unlock()
	s.cancelAll()
	s.wg.Wait()
	s.limiter().Flush()
	return nil
}

func (s *Server) cancelAll() {
	s.mu.Lock()
	for t := range s.transfers {
		t.kick(flagCancel)
	}
	s.mu.Unlock()
}

// A listener is one connection given to Serve.
type listener struct {
	s       *Server
	conn    net.PacketConn
	udp     *net.UDPConn                // conn, if it is one
	p4      *ipv4.PacketConn            // for the destination address of requests
	p6      *ipv6.PacketConn            //
	single  bool                        // transfers use conn (demultiplexed by peer)
	ifIndex int                         // Server.Interface's index, 0 when not set
	active  map[netip.AddrPort]*session // guarded by s.mu
}

// stop makes the read loop return: at once in normal mode, after the last
// transfer in single-port mode. Called with s.mu held.
func (l *listener) stop() {
	if !l.single {
		l.conn.Close()
		return
	}
	l.conn.SetReadDeadline(time.Now())
}

func (l *listener) serve() error {
	s := l.s
	buf := make([]byte, 64<<10)
	var backoff time.Duration
	for {
		if l.single && s.inShutdown.Load() {
			s.mu.Lock()
			n := len(l.active)
			s.mu.Unlock()
			if n == 0 {
				return ErrServerClosed
			}
			l.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		}
		n, peer, dst, ifIndex, err := l.read(buf)
		if err != nil {
			if s.inShutdown.Load() {
				if l.single && errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Transient errors (ICMP reports on an unconnected socket,
			// ENOBUFS): back off a little, like net/http's accept loop.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if l.ifIndex != 0 && ifIndex != l.ifIndex {
			continue // another interface's request (or one we cannot place)
		}
		l.handle(buf[:n], peer, dst)
	}
}

// read reads one packet, with the destination address and the arrival
// interface's index when the socket can report them (0 when not).
func (l *listener) read(buf []byte) (int, netip.AddrPort, netip.Addr, int, error) {
	switch {
	case l.p4 != nil:
		n, cm, src, err := l.p4.ReadFrom(buf)
		if err != nil {
			return 0, netip.AddrPort{}, netip.Addr{}, 0, err
		}
		var dst netip.Addr
		var ifIndex int
		if cm != nil {
			dst, _ = netip.AddrFromSlice(cm.Dst)
			ifIndex = cm.IfIndex
		}
		return n, udpAddrPort(src), dst.Unmap(), ifIndex, nil
	case l.p6 != nil:
		n, cm, src, err := l.p6.ReadFrom(buf)
		if err != nil {
			return 0, netip.AddrPort{}, netip.Addr{}, 0, err
		}
		var dst netip.Addr
		var ifIndex int
		if cm != nil {
			dst, _ = netip.AddrFromSlice(cm.Dst)
			ifIndex = cm.IfIndex
		}
		return n, udpAddrPort(src), dst.Unmap(), ifIndex, nil
	case l.udp != nil:
		n, src, err := l.udp.ReadFromUDPAddrPort(buf)
		return n, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), netip.Addr{}, 0, err
	default:
		n, src, err := l.conn.ReadFrom(buf)
		if err != nil {
			return 0, netip.AddrPort{}, netip.Addr{}, 0, err
		}
		return n, udpAddrPort(src), netip.Addr{}, 0, nil
	}
}

func udpAddrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// writeTo sends b to peer from conn (errors to requests, single-port data).
func (l *listener) writeTo(b []byte, peer netip.AddrPort) error {
	if l.udp != nil {
		_, err := l.udp.WriteToUDPAddrPort(b, peer)
		return err
	}
	_, err := l.conn.WriteTo(b, net.UDPAddrFromAddrPort(peer))
	return err
}

// handle processes one packet from the listening socket.
func (l *listener) handle(b []byte, peer netip.AddrPort, dst netip.Addr) {
	s := l.s
	if len(b) < 2 || !peer.IsValid() {
		return
	}
	op := int(b[0])<<8 | int(b[1])
	if op != opRRQ && op != opWRQ {
		if l.single {
			s.mu.Lock()
			t := l.active[peer]
			s.mu.Unlock()
			if t != nil {
				t.link.(*chanLink).deliver(b)
				return
			}
		}
		l.unknownTID(op, peer, dst)
		return
	}
	req, err := parseRequest(b)
	if err != nil {
		// The error packet is larger than the smallest bad request: it
		// goes out within the client's log allowance only, so that a
		// forged source address cannot turn the server into an
		// amplifier. The same holds for the refusals below.
		if s.logPeer(slog.LevelDebug, peer, "tftp: malformed request", "peer", peer, "err", err) {
			l.writeTo(appendError(nil, errIllegalOperation, "malformed request"), peer)
		}
		return
	}
	if req.op == opWRQ {
		if s.logPeer(slog.LevelInfo, peer, "tftp: write request refused", "peer", peer, "file", req.name) {
			l.writeTo(appendError(nil, errAccessViolation, "read-only server: write requests are refused"), peer)
		}
		return
	}
	if req.mode == "mail" {
		if s.logPeer(slog.LevelInfo, peer, "tftp: mail mode refused", "peer", peer, "file", req.name) {
			l.writeTo(appendError(nil, errIllegalOperation, "mail mode is not supported"), peer)
		}
		return
	}
	if s.inShutdown.Load() {
		return
	}
	s.mu.Lock()
	if t := l.active[peer]; t != nil {
		// A request from a client port that has a transfer running: a
		// retransmitted RRQ, or the client starting over (a ROM that
		// probed the size and aborted). The transfer decides.
		t.pending = req
		s.mu.Unlock()
		t.kick(flagRequest)
		return
	}
	now := time.Now()
	var victim *session
	if len(s.transfers) >= s.maxTransfers() && s.perClient[peer.Addr()] == 0 {
		if v := s.fresh.head; v != nil && now.Sub(v.since) >= EvictAfter {
			victim = v
			v.flags.Or(flagEvict)
			v.l.release(v)
		}
	}
	if len(s.transfers) >= s.maxTransfers() || s.perClient[peer.Addr()] >= s.maxClientTransfers() {
		s.mu.Unlock()
		s.logPeer(slog.LevelWarn, peer, "tftp: request dropped: transfer limit reached", "peer", peer, "file", req.name)
		return
	}
	s.mu.Unlock()
	if victim != nil {
		victim.link.wake() // it reports itself, as OutcomeEvicted
	}

	var lk link
	if l.single {
		lk = newChanLink(l, peer)
	} else if lk = s.lockStepLink(dst, peer, req); lk == nil {
		c, err := s.dialTransfer(dst, peer)
		if err != nil {
			s.logPeer(slog.LevelWarn, peer, "tftp: cannot open transfer socket", "peer", peer, "err", err)
			return
		}
		lk = newSockLink(c)
	}
	t := newSession(s, l, lk, peer, req)
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		lk.close()
		return
	}
	l.active[peer] = t
	s.transfers[t] = struct{}{}
	s.perClient[peer.Addr()]++
	t.since = now
	s.fresh.pushBack(t)
	s.wg.Add(1)
	s.mu.Unlock()
	go t.run()
}

// unknownTID answers a DATA, ACK or OACK packet that belongs to no
// transfer with error 5, "unknown transfer ID" (RFC 1350 §4), within the
// client's log allowance. Error packets are never answered (two servers
// would answer each other forever), nor packets of other opcodes, nor
// packets from or to a broadcast or multicast address.
func (l *listener) unknownTID(op int, peer netip.AddrPort, dst netip.Addr) {
	if op != opDATA && op != opACK && op != opOACK {
		return
	}
	if !unicast(peer.Addr()) || peer.Port() == 0 || dst.IsValid() && !dst.IsUnspecified() && !unicast(dst) {
		return
	}
	if l.s.logPeer(slog.LevelDebug, peer, "tftp: packet for an unknown transfer", "peer", peer, "opcode", op) {
		var b [32]byte
		l.writeTo(appendError(b[:0], errUnknownTID, "unknown transfer ID"), peer)
	}
}

// unicast reports whether a is an address a reply may be sent to: not
// unspecified, multicast or the limited broadcast address. (A subnet's
// broadcast address cannot be told from here.)
func unicast(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// release forgets t and frees its slot, once (an evicted transfer is
// released before its goroutine ends); it is called with s.mu held.
func (l *listener) release(t *session) {
	s := l.s
	if t.released {
		return
	}
	t.released = true
	s.fresh.remove(t)
	if l.active[t.peer] == t {
		delete(l.active, t.peer)
	}
	delete(s.transfers, t)
	a := t.peer.Addr()
	if s.perClient[a]--; s.perClient[a] <= 0 {
		delete(s.perClient, a)
	}
}

// lockStepLink opens the transfer's socket in the lock-step engine
// (engine_linux.go) for a request that asks for no window, unless the
// engine is off for s; nil when the request gets a socket of the net
// package (dialTransfer).
func (s *Server) lockStepLink(local netip.Addr, peer netip.AddrPort, req *request) link {
	if s.readFirst || s.noEngine || req.window > 1 && s.maxWindowSize() > 1 {
		return nil
	}
	return engineLink(local, peer, s.Interface)
}

// dialTransfer opens the transfer's own UDP socket (a new TID, RFC 1350
// §4), connected to the client and bound to the address the request came
// to, so that replies leave from the address the client talked to, and
// to Interface when set.
func (s *Server) dialTransfer(local netip.Addr, peer netip.AddrPort) (*net.UDPConn, error) {
	raddr := net.UDPAddrFromAddrPort(peer)
	d := net.Dialer{}
	if s.Interface != "" {
		d.Control = s.bindControl
	}
	dial := func(laddr *net.UDPAddr) (*net.UDPConn, error) {
		d.LocalAddr = nil
		if laddr != nil {
			d.LocalAddr = laddr
		}
		c, err := d.Dial("udp", raddr.String())
		if err != nil {
			return nil, err
		}
		return c.(*net.UDPConn), nil
	}
	if local.IsValid() && !local.IsMulticast() && !local.IsUnspecified() && local != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		c, err := dial(net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
		if err == nil {
			return c, nil
		}
		// A subnet broadcast address cannot be bound; let the kernel
		// choose.
	}
	return dial(nil)
}

// bindControl binds a socket to Interface (see [Server.Interface]).
func (s *Server) bindControl(_, _ string, rc syscall.RawConn) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) { err = bindToDevice(fd, s.Interface) }); cerr != nil {
		return cerr
	}
	return err
}

// sessionList is an intrusive doubly linked list of sessions (the
// server's fresh ones), so that adding, removing and finding the oldest
// are O(1) and allocate nothing. It is guarded by s.mu.
type sessionList struct{ head, tail *session }

func (q *sessionList) pushBack(t *session) {
	q.remove(t)
	t.prevFresh, t.nextFresh, t.listed = q.tail, nil, true
	if q.tail != nil {
		q.tail.nextFresh = t
	} else {
		q.head = t
	}
	q.tail = t
}

func (q *sessionList) remove(t *session) {
	if !t.listed {
		return
	}
	if t.prevFresh != nil {
		t.prevFresh.nextFresh = t.nextFresh
	} else {
		q.head = t.nextFresh
	}
	if t.nextFresh != nil {
		t.nextFresh.prevFresh = t.prevFresh
	} else {
		q.tail = t.prevFresh
	}
	t.prevFresh, t.nextFresh, t.listed = nil, nil, false
}
