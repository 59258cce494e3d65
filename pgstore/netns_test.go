package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
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
}

func (l *lab) server(a netip.Prefix, store dhcp.LeaseStore, b dhcp.Balancer) *server {
	ns, _ := l.join(a)
	conn := ns.ListenBroadcastUDP(l.t, "0.0.0.0:67", "")
	s := &server{addr: a.Addr(), done: make(chan error, 1), srv: &dhcp.Server{
		Pool: &dhcp.Pool{
			First: netip.MustParseAddr("10.0.18.100"), Last: netip.MustParseAddr("10.0.18.159"),
			Subnet: subnet, LeaseTime: time.Hour, Store: store,
		},
		Balancer: b,
	}}
	go func() { s.done <- s.srv.Serve(conn) }()
	l.t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.srv.Close() == nil {
		<-s.done
	}
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
// with its own Pool over one range (60 addresses) in one PostgreSQL
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
