package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
)

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
			sc.raw = newRawSock(uc)
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
	sc.work = make(chan storeJob)
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
	close(sc.work) // no loop hands work on: idle store workers end
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
