package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/events"
)

type serverConn struct {
	sem       chan struct{} // bounds requests waiting for the store
	work      chan storeJob // to an idle store worker; closed when the loops end
	workers   atomic.Int64  // store workers started
	wg        sync.WaitGroup
	conn      net.PacketConn
	udp       *net.UDPConn // set when IP_PKTINFO is enabled
	raw       *rawSock     // udp's system calls without the runtime's (Linux), or nil
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
		if sc.raw != nil {
			var oobn int
			n, oobn, in.src, err = sc.raw.recvmsg(buf, oob)
			if err == nil {
				parsePktinfo(oob[:oobn], &in)
			}
		} else if sc.udp != nil {
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
	if sc.sem != nil && s.waitsForStore(req, in, srvAddr) {
		// Answer from a store worker, so that the next datagram is read
		// meanwhile: an idle one, else a new one.
		sc.sem <- struct{}{}
		j := storeJob{req: req, in: in, srv: srvAddr}
		select {
		case sc.work <- j:
		default:
			sc.wg.Add(1)
			sc.workers.Add(1)
			go s.storeWorker(ctx, sc, j)
		}
		return out
	}
	return s.respond(ctx, sc, req, in, srvAddr, out, pi)
}

// storeJob is a request for a store worker.
type storeJob struct {
	req *dhcpv4.DHCPv4
	in  inbound
	srv netip.Addr
}

// workerIdle is how long a store worker waits for another request
// before it ends.
const workerIdle = time.Second

// storeWorker answers j, then the requests handed to it through sc.work,
// until it has waited workerIdle for one or sc.work is closed. Each job
// holds a pending slot (sc.sem) until it is answered. Workers outlive
// their request because a request that waits for the store runs deep
// (the database driver): a goroutine per request grew its stack anew
// each time (runtime.newstack and copystack were 8% of a busy
// PostgreSQL-backed server's CPU).
func (s *Server) storeWorker(ctx context.Context, sc *serverConn, j storeJob) {
	defer sc.wg.Done()
	pi := newPktinfo()
	var out []byte
	var idle *time.Timer
	for {
		out = s.respond(ctx, sc, j.req, j.in, j.srv, out[:0], pi)
		<-sc.sem
		if sc.work == nil {
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		var ok bool
		select {
		case j, ok = <-sc.work:
			if !ok {
				return
			}
		case <-idle.C:
			return
		}
	}
}

// waitsForStore reports whether answering req may wait for a lease
// store: a REQUEST, RELEASE or DECLINE to a server with a store, and a
// DISCOVER to one with a shared store (an offer is a write there). Two
// kinds are answered at once, without a goroutine or a pending slot,
// since they touch no store: a request left to a peer by the Balancer,
// and a REQUEST that names another server (RFC 2131 §4.3.2, SELECTING).
// With several servers on a segment each of them hears every broadcast,
// so these are about half of what each reads; queued behind the store's
// writes they cost each server CPU (a goroutine and its stack each) and,
// with every pending slot taken by requests waiting for a slow store,
// stopped its read loop. (Should the Balancer change its split between
// this check and respond's, one request is answered on the read loop.)
func (s *Server) waitsForStore(req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) bool {
	if !s.stored() {
		return false
	}
	switch msgType(req) {
	case dhcpv4.MessageTypeDiscover:
		if !s.shared() {
			return false
		}
	case dhcpv4.MessageTypeRequest:
		if sid := optAddr(req, dhcpv4.OptionServerIdentifier); sid.IsValid() && sid != srv {
			return false
		}
	case dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline:
	default:
		return false
	}
	return s.balanced(req, in)
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
