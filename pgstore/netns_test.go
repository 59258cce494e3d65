package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pgstore"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// lab is one Ethernet segment (a bridge in a namespace of its own) with
// namespaces for servers and one for the clients.
type lab struct {
	t       *testing.T
	sw      *testenv.NetNS
	clients *testenv.NetNS
	cdev    string
	conn    *net.UDPConn // the clients' socket, port 68
	mu      sync.Mutex
	waiting map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4
}

var subnet = netip.MustParsePrefix("10.0.18.0/24")

func newLab(t *testing.T) *lab {
	t.Helper()
	testenv.NeedCommand(t, "ip")
	l := &lab{t: t, sw: testenv.NewNetNS(t), waiting: map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4{}}
	l.sw.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
	l.sw.MustRun(t, "ip", "link", "set", "br0", "up")
	l.clients, l.cdev = l.join(netip.MustParsePrefix("10.0.18.250/24"))
	l.conn = l.clients.ListenBroadcastUDP(t, "0.0.0.0:68", l.cdev)
	go l.read()
	return l
}

// join adds a namespace with address a to the segment and returns it
// with its interface name.
func (l *lab) join(a netip.Prefix) (*testenv.NetNS, string) {
	ns := testenv.NewNetNS(l.t)
	b := make([]byte, 4)
	rand.Read(b)
	port, dev := fmt.Sprintf("p%x", b), fmt.Sprintf("e%x", b)
	if out, err := exec.Command("ip", "link", "add", port, "netns", l.sw.Name, "type", "veth", "peer", "name", dev, "netns", ns.Name).CombinedOutput(); err != nil {
		l.t.Fatalf("ip link add: %v: %s", err, out)
	}
	l.sw.MustRun(l.t, "ip", "link", "set", port, "master", "br0", "up")
	ns.MustRun(l.t, "ip", "addr", "add", a.String(), "dev", dev)
	ns.MustRun(l.t, "ip", "link", "set", dev, "up")
	return ns, dev
}

func (l *lab) read() {
	buf := make([]byte, 2048)
	for {
		n, _, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || m.OpCode != dhcpv4.OpcodeBootReply {
			continue
		}
		l.mu.Lock()
		ch := l.waiting[m.TransactionID]
		l.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// server runs a full DHCP server at a on the segment, over store, with
// balancer b; stop ends it (as a crash would: no goodbye).
type server struct {
	addr netip.Addr
	srv  *dhcp.Server
	done chan error
	once sync.Once
}

func (l *lab) server(a netip.Prefix, store dhcp.LeaseStore, b dhcp.Balancer) *server {
	ns, _ := l.join(a)
	return l.serve(ns, a.Addr(), store, b)
}

// serve runs a full DHCP server in ns, whose address is a (see server).
func (l *lab) serve(ns *testenv.NetNS, a netip.Addr, store dhcp.LeaseStore, b dhcp.Balancer) *server {
	conn := ns.ListenBroadcastUDP(l.t, "0.0.0.0:67", "")
	s := &server{addr: a, done: make(chan error, 1), srv: &dhcp.Server{
		Pool: &dhcp.Pool{
			First: netip.MustParseAddr("10.0.18.100"), Last: netip.MustParseAddr("10.0.18.169"),
			Subnet: subnet, LeaseTime: time.Hour, Store: store,
		},
		Balancer: b,
		Logger:   l.logger(a.String()),
	}}
	go func() { s.done <- s.srv.Serve(conn) }()
	l.t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	s.once.Do(func() {
		s.srv.Close()
		<-s.done
	})
}

// logger is a debug logger into the test's output when PXEKIT_TEST_LOG
// is set, else nil.
func (l *lab) logger(name string) *slog.Logger {
	if os.Getenv("PXEKIT_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(l.t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", name)
}

// result is what one client got.
type result struct {
	mac    net.HardwareAddr
	addr   netip.Addr
	server netip.Addr // option 54 of the ACK
	naks   int
	err    error
}

func clientMAC(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x18, 0, 0, byte(i >> 8), byte(i)}
}

// dora runs DISCOVER, OFFER, REQUEST, ACK for mac, starting over after a
// NAK or a lost answer, for at most d.
func (l *lab) dora(ctx context.Context, mac net.HardwareAddr, d time.Duration) result {
	r := result{mac: mac}
	var xid dhcpv4.TransactionID
	rand.Read(xid[:])
	ch := make(chan *dhcpv4.DHCPv4, 8)
	l.mu.Lock()
	l.waiting[xid] = ch
	l.mu.Unlock()
	defer func() { l.mu.Lock(); delete(l.waiting, xid); l.mu.Unlock() }()
	send := func(m *dhcpv4.DHCPv4) error {
		_, err := l.conn.WriteToUDPAddrPort(m.ToBytes(), netip.MustParseAddrPort("255.255.255.255:67"))
		return err
	}
	wait := func(want dhcpv4.MessageType, also dhcpv4.MessageType) *dhcpv4.DHCPv4 {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		for {
			select {
			case m := <-ch:
				if mt := m.MessageType(); mt == want || mt == also {
					return m
				}
			case <-t.C:
				return nil
			case <-ctx.Done():
				return nil
			}
		}
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		disc, _ := dhcpv4.New(dhcpv4.WithTransactionID(xid), dhcpv4.WithHwAddr(mac), dhcpv4.WithBroadcast(true),
			dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover))
		if r.err = send(disc); r.err != nil {
			return r
		}
		offer := wait(dhcpv4.MessageTypeOffer, dhcpv4.MessageTypeOffer)
		if offer == nil {
			continue
		}
		req, _ := dhcpv4.New(dhcpv4.WithTransactionID(xid), dhcpv4.WithHwAddr(mac), dhcpv4.WithBroadcast(true),
			dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
		if r.err = send(req); r.err != nil {
			return r
		}
		ack := wait(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
		if ack == nil {
			continue
		}
		if ack.MessageType() == dhcpv4.MessageTypeNak {
			r.naks++
			continue
		}
		r.addr, _ = netip.AddrFromSlice(ack.YourIPAddr.To4())
		r.server, _ = netip.AddrFromSlice(ack.ServerIdentifier().To4())
		return r
	}
	r.err = errors.New("no lease")
	return r
}

// race runs dora for the clients numbered from..to-1 at once.
func (l *lab) race(from, to int, d time.Duration) []result {
	out := make([]result, to-from)
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Go(func() { out[i-from] = l.dora(l.t.Context(), clientMAC(i), d) })
	}
	wg.Wait()
	return out
}

// countingStore counts the claims the database refused.
type countingStore struct {
	*pgstore.Store
	taken atomic.Int64
}

func (c *countingStore) Claim(ctx context.Context, l dhcp.Lease, offer bool) error {
	err := c.Store.Claim(ctx, l, offer)
	if errors.Is(err, dhcp.ErrAddrTaken) {
		c.taken.Add(1)
	}
	return err
}

// checkLeases fails the test unless every result has a lease, no address
// went to two clients, and the database holds each result's address for
// its client.
func checkLeases(t *testing.T, store *pgstore.Store, rs []result) {
	t.Helper()
	byAddr := map[netip.Addr]net.HardwareAddr{}
	for _, r := range rs {
		if r.err != nil {
			t.Errorf("client %v: %v (%d NAKs)", r.mac, r.err, r.naks)
			continue
		}
		if other, dup := byAddr[r.addr]; dup {
			t.Errorf("%v acknowledged to %v and %v", r.addr, other, r.mac)
		}
		byAddr[r.addr] = r.mac
	}
	ls, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[netip.Addr]string{}
	for _, l := range ls {
		inDB[l.Addr] = l.MAC.String()
	}
	for a, m := range byAddr {
		if inDB[a] != m.String() {
			t.Errorf("database: %v held by %q, acknowledged to %v", a, inDB[a], m)
		}
	}
}

// TestTwoServersOneDatabase: two pxekit servers on one segment, each
// with its own Pool over one range (70 addresses) in one PostgreSQL
// database, split by RFC 3074 (Split), and 50 clients racing DORA at
// once: every client gets an address, no address goes to two clients,
// the database agrees, and each client was served by its bucket's owner.
func TestTwoServersOneDatabase(t *testing.T) {
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	stA, stB := &countingStore{Store: open(t, url)}, &countingStore{Store: open(t, url)}
	t.Cleanup(func() { stA.Close(); stB.Close() })
	a := l.server(netip.MustParsePrefix("10.0.18.1/24"), stA, dhcp.Split{Index: 0, N: 2})
	b := l.server(netip.MustParsePrefix("10.0.18.2/24"), stB, dhcp.Split{Index: 1, N: 2})

	rs := l.race(0, 50, 20*time.Second)
	checkLeases(t, stA.Store, rs)
	perServer := map[netip.Addr]int{}
	for _, r := range rs {
		owner := a.addr
		if !(dhcp.Split{Index: 0, N: 2}).Serves(dhcp.LoadBalanceHash(r.mac)) {
			owner = b.addr
		}
		if r.err == nil && r.server != owner {
			t.Errorf("client %v (bucket %d) served by %v, want %v", r.mac, dhcp.LoadBalanceHash(r.mac), r.server, owner)
		}
		perServer[r.server]++
	}
	t.Logf("leases per server %v; claims refused by the database: A %d, B %d", perServer, stA.taken.Load(), stB.taken.Load())
}

// failoverNode is a server with its Failover balancer running.
type failoverNode struct {
	*server
	fo     *dhcp.Failover
	cancel context.CancelFunc
	runErr chan error
}

func (l *lab) failoverNode(ns *testenv.NetNS, a netip.Addr, id string, store *pgstore.Store) *failoverNode {
	fo := &dhcp.Failover{ID: id, Store: store, Interval: 200 * time.Millisecond, DeadAfter: 2 * time.Second}
	if err := fo.Refresh(l.t.Context()); err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &failoverNode{server: l.serve(ns, a, store, fo), fo: fo, cancel: cancel, runErr: make(chan error, 1)}
	go func() { n.runErr <- fo.Run(ctx) }()
	l.t.Cleanup(n.kill)
	return n
}

// kill stops the server and its heartbeat at once, as a crash would.
func (n *failoverNode) kill() {
	if n.cancel != nil {
		n.cancel()
		<-n.runErr
		n.cancel = nil
	}
	n.stop()
}

// servesAll reports whether f serves every bucket, and halves whether it
// serves exactly the buckets of Split{index, 2}.
func servesAll(f *dhcp.Failover) bool {
	for b := range 256 {
		if !f.Serves(uint8(b)) {
			return false
		}
	}
	return true
}

func halves(f *dhcp.Failover, index int) bool {
	for b := range 256 {
		if f.Serves(uint8(b)) != (dhcp.Split{Index: index, N: 2}).Serves(uint8(b)) {
			return false
		}
	}
	return true
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("not %s after %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// bucketOf returns n client numbers from 'from' on whose bucket Split
// index of 2 serves.
func bucketOf(index, from, n int) []int {
	var out []int
	for i := from; len(out) < n; i++ {
		if (dhcp.Split{Index: index, N: 2}).Serves(dhcp.LoadBalanceHash(clientMAC(i))) {
			out = append(out, i)
		}
	}
	return out
}

// TestFailover: two servers ("a", "b") share one database and balance
// with dhcp.Failover (heartbeats in pxekit_peers, failover time 2 s).
// Each serves its half; b is killed (server and heartbeat stop at once);
// a client of b's half that keeps trying gets its lease from a within
// the failover time plus its retry, and so do new clients of b's half;
// b restarts with its ID and takes its half back. No address ever goes
// to two clients.
func TestFailover(t *testing.T) {
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	stA, stB := open(t, url), open(t, url)
	t.Cleanup(func() { stA.Close(); stB.Close() })
	nsA, _ := l.join(netip.MustParsePrefix("10.0.18.1/24"))
	nsB, _ := l.join(netip.MustParsePrefix("10.0.18.2/24"))
	addrA, addrB := netip.MustParseAddr("10.0.18.1"), netip.MustParseAddr("10.0.18.2")
	a := l.failoverNode(nsA, addrA, "a", stA)
	b := l.failoverNode(nsB, addrB, "b", stB)
	waitUntil(t, "split between a and b", 5*time.Second, func() bool { return halves(a.fo, 0) && halves(b.fo, 1) })

	var all []result
	check := func(step string, rs []result, want func(r result) netip.Addr) {
		t.Helper()
		for _, r := range rs {
			if w := want(r); r.err == nil && r.server != w {
				t.Errorf("%s: client %v (bucket %d) served by %v, want %v", step, r.mac, dhcp.LoadBalanceHash(r.mac), r.server, w)
			}
		}
		all = append(all, rs...)
		checkLeases(t, stA, all)
	}
	owner := func(r result) netip.Addr {
		if (dhcp.Split{Index: 0, N: 2}).Serves(dhcp.LoadBalanceHash(r.mac)) {
			return addrA
		}
		return addrB
	}
	check("both up", l.race(0, 20, 10*time.Second), owner)

	// Kill b; one of its clients starts asking right away.
	victim := bucketOf(1, 1000, 1)[0]
	b.kill()
	killed := time.Now()
	r := l.dora(t.Context(), clientMAC(victim), 15*time.Second)
	took := time.Since(killed)
	check("b killed, its client", []result{r}, func(result) netip.Addr { return addrA })
	t.Logf("b killed: its client %v got %v from a after %v (failover time 2 s)", r.mac, r.addr, took.Round(10*time.Millisecond))
	if took > 2*time.Second+2*time.Second {
		t.Errorf("b's client waited %v for a, more than the failover time 2 s and a retry", took)
	}
	if !servesAll(a.fo) {
		t.Error("a does not serve every bucket with b down")
	}
	check("b down", l.race(20, 40, 10*time.Second), func(result) netip.Addr { return addrA })

	// b returns with its ID: a hands b's half back.
	b = l.failoverNode(nsB, addrB, "b", stB)
	back := waitUntil(t, "b's half back", 5*time.Second, func() bool { return halves(a.fo, 0) && halves(b.fo, 1) })
	t.Logf("b restarted: split again after %v", back.Round(10*time.Millisecond))
	check("b back", l.race(40, 60, 10*time.Second), owner)
}

// TestDatabaseDown: with PostgreSQL stopped mid-service, a server
// acknowledges nothing and offers nothing (it cannot claim an address);
// when the database is back it serves again on its own, and every ACK
// it sent is a lease in the database.
func TestDatabaseDown(t *testing.T) {
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	st := open(t, url)
	t.Cleanup(func() { st.Close() })
	a := l.server(netip.MustParsePrefix("10.0.18.1/24"), st, nil)
	rs := l.race(0, 5, 10*time.Second)
	checkLeases(t, st, rs)

	pg.Stop()
	r := l.dora(t.Context(), clientMAC(100), 3*time.Second)
	if r.err == nil {
		t.Fatalf("database down: client got %v from %v", r.addr, r.server)
	}
	if n := a.srv.Stats().StoreErrors; n == 0 {
		t.Error("database down: no store error counted")
	}
	pg.Restart(t)
	r = l.dora(t.Context(), clientMAC(100), 15*time.Second)
	if r.err != nil {
		t.Fatalf("database back: %v", r.err)
	}
	checkLeases(t, st, append(rs, r))
}
