package dhcp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/lograte"
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
	// else the relay's giaddr; a request unicast to the server with
	// ciaddr and no giaddr (a renewal, a release: a relayed subnet's
	// client sends them through its router, not the relay) from the pool
	// whose subnet holds ciaddr, if any; any other request that is not
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
	// once (full DHCP REQUEST, RELEASE, DECLINE with a Pool.Store, and
	// DISCOVER with a shared one); each waits in a goroutine of its own
	// (a store worker, which then takes the next such request) so that
	// readers keep answering, and concurrent waits let the store batch
	// its writes. Requests that need no store (left to a peer by the
	// Balancer, or a REQUEST naming another server) take no slot. Zero
	// means 4096. When the bound is reached readers wait too.
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
	// that split the clients by RFC 3074's hash (which messages are
	// balanced is this package's choice, see [Split] and the package
	// doc): a DISCOVER, INFORM, or REQUEST of a rebooting or
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
	// §4 and §5.3: Delayed Service).
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
