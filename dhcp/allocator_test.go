package dhcp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// memShared is an in-memory [Allocator] with the semantics Claim
// documents, for testing the pools that share it. Its clock is now.
type memShared struct {
	mu     sync.Mutex
	now    func() time.Time
	recs   map[netip.Addr]memRec
	claims int // Claims refused
}

type memRec struct {
	l     Lease
	offer bool
}

func newMemShared(now func() time.Time) *memShared {
	return &memShared{now: now, recs: map[netip.Addr]memRec{}}
}

func sameClient(a, b Lease) bool {
	if len(a.ClientID) > 0 || len(b.ClientID) > 0 {
		return bytes.Equal(a.ClientID, b.ClientID)
	}
	return bytes.Equal(a.MAC, b.MAC)
}

func (m *memShared) Load(ctx context.Context) ([]Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Lease
	for _, r := range m.recs {
		if !r.offer {
			out = append(out, r.l)
		}
	}
	return out, nil
}

func (m *memShared) Save(ctx context.Context, l Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[l.Addr] = memRec{l: l}
	return nil
}

func (m *memShared) Delete(ctx context.Context, a netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, a)
	return nil
}

func (m *memShared) Claim(ctx context.Context, l Lease, offer bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	r, ok := m.recs[l.Addr]
	switch {
	case !ok:
	case !r.l.Declined.IsZero():
		if now.Sub(r.l.Declined) < 10*time.Minute && !sameClient(r.l, l) {
			m.claims++
			return fmt.Errorf("%v: %w", l.Addr, ErrAddrTaken)
		}
	case sameClient(r.l, l):
		if offer && !r.offer && r.l.Expiry.After(now) {
			return nil // an offer keeps the lease
		}
	case r.l.Expiry.After(now):
		m.claims++
		return fmt.Errorf("%v: %w", l.Addr, ErrAddrTaken)
	}
	m.recs[l.Addr] = memRec{l: l, offer: offer && l.Declined.IsZero()}
	return nil
}

func (m *memShared) Release(ctx context.Context, l Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recs[l.Addr]; ok && sameClient(r.l, l) {
		delete(m.recs, l.Addr)
	}
	return nil
}

func (m *memShared) Lookup(ctx context.Context, mac net.HardwareAddr, cid []byte) (Lease, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := Lease{MAC: mac, ClientID: cid}
	var best Lease
	for _, r := range m.recs {
		if !r.offer && r.l.Declined.IsZero() && sameClient(r.l, want) && r.l.Expiry.After(m.now()) && r.l.Expiry.After(best.Expiry) {
			best = r.l
		}
	}
	return best, best.Addr.IsValid(), nil
}

// plainOnly hides everything of a store but LeaseStore.
type plainOnly struct{ LeaseStore }

var (
	srvA = netip.MustParseAddr("10.0.0.1")
	srvB = netip.MustParseAddr("10.0.0.2")
)

// handleAt runs req through s as the server at srv, through the wire
// format both ways; nil for no reply.
func handleAt(t *testing.T, s *Server, srv netip.Addr, req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	t.Helper()
	b, err := AppendMessage(nil, req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if req, err = ParseRequest(b); err != nil {
		t.Fatal(err)
	}
	r, err := s.handle(t.Context(), req, in67, srv)
	if err != nil {
		t.Fatalf("%v at %v: %v", req.MessageType(), srv, err)
	}
	return r
}

// twoServers returns two full servers at srvA and srvB whose pools
// (10.0.0.100-119) share store.
func twoServers(t *testing.T, store LeaseStore, clk *fakeClock) (a, b *Server) {
	t.Helper()
	mk := func() *Server {
		p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.119"), Store: store, now: clk.now}
		if err := p.init(t.Context()); err != nil {
			t.Fatal(err)
		}
		return &Server{Pool: p}
	}
	return mk(), mk()
}

// TestSharedPoolNoDuplicates has two servers hand out one 20-address
// range to 20 clients, each pair of DISCOVERs racing: one client at each
// server before either REQUESTs. With the shared store deciding, every
// client gets an address of its own.
func TestSharedPoolNoDuplicates(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	store := newMemShared(clk.now)
	a, b := twoServers(t, store, clk)
	got := map[string]int{}
	for i := 0; i < 20; i += 2 {
		c1, c2 := mac(100+i), mac(101+i)
		o1 := handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(c1)))
		o2 := handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(c2)))
		for j, x := range []struct {
			s     *Server
			srv   netip.Addr
			mac   net.HardwareAddr
			offer *dhcpv4.DHCPv4
		}{{a, srvA, c1, o1}, {b, srvB, c2, o2}} {
			if x.offer == nil {
				t.Fatalf("client %d: no OFFER", i+j)
			}
			ack := handleAt(t, x.s, x.srv, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(x.mac),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(x.srv.AsSlice())),
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(x.offer.YourIPAddr))))
			if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
				t.Fatalf("client %d: REQUEST %v: %v, want ACK", i+j, x.offer.YourIPAddr, ack)
			}
			got[ack.YourIPAddr.String()]++
		}
	}
	for addr, n := range got {
		if n > 1 {
			t.Errorf("%s acknowledged to %d clients", addr, n)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d addresses for 20 clients", len(got))
	}
	t.Logf("claims refused: %d", store.claims)
	for _, s := range []*Server{a, b} {
		for _, l := range s.Pool.Leases() {
			if len(l.MAC) == 0 {
				t.Errorf("Pool.Leases lists %v without a client (an address held by the peer)", l.Addr)
			}
		}
	}
}

// TestSharedPoolPlainStoreDuplicates shows what the Allocator prevents:
// two pools over a store that only persists hand one address to two
// clients.
func TestSharedPoolPlainStoreDuplicates(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	a, b := twoServers(t, plainOnly{newMemShared(clk.now)}, clk)
	o1 := handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(1))))
	o2 := handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(2))))
	if !o1.YourIPAddr.Equal(o2.YourIPAddr) {
		t.Fatalf("plain store: offers %v and %v differ; this test expects the duplicate a shared store must prevent", o1.YourIPAddr, o2.YourIPAddr)
	}
}

// TestSharedPoolLateRequest: a REQUEST for an address another server's
// client took meanwhile gets a NAK, and a lease from a peer (down) is
// found in the store on INIT-REBOOT and DISCOVER.
func TestSharedPoolPeerLease(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	store := newMemShared(clk.now)
	a, b := twoServers(t, store, clk)

	// Client 1 leases at B.
	o := handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(1))))
	ack := handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srvB.AsSlice())), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(o.YourIPAddr))))
	if ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("at B: %v", ack)
	}
	// B is gone; the client reboots and asks A for its address.
	r := handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(1)),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr))))
	if r == nil || r.MessageType() != dhcpv4.MessageTypeAck || !r.YourIPAddr.Equal(ack.YourIPAddr) {
		t.Fatalf("INIT-REBOOT at A for B's lease %v: %v, want ACK", ack.YourIPAddr, r)
	}
	// Client 2, leased at B, DISCOVERs at A: its address again.
	o = handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(2))))
	ack2 := handleAt(t, b, srvB, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(2)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srvB.AsSlice())), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(o.YourIPAddr))))
	o = handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(2))))
	if o == nil || !o.YourIPAddr.Equal(ack2.YourIPAddr) {
		t.Fatalf("DISCOVER at A from B's client with %v: offer %v", ack2.YourIPAddr, o)
	}

	// A stale REQUEST: client 3 was offered an address at A, client 4
	// took it at B (A's offer hold passed), then client 3 REQUESTs it.
	o3 := handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(3))))
	clk.add(11 * time.Second)
	addr := netip.MustParseAddr(o3.YourIPAddr.String())
	if err := store.Claim(t.Context(), Lease{Addr: addr, MAC: mac(4), Expiry: clk.now().Add(time.Hour)}, false); err != nil {
		t.Fatal(err)
	}
	r = handleAt(t, a, srvA, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(3)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srvA.AsSlice())), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(o3.YourIPAddr))))
	if r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Fatalf("REQUEST for %v held by another client in the store: %v, want NAK", addr, r)
	}
	// Client 3's RELEASE of it (it never had it) leaves client 4's lease.
	rel := plainRequest(t, dhcpv4.MessageTypeRelease, dhcpv4.WithHwAddr(mac(3)), dhcpv4.WithClientIP(o3.YourIPAddr))
	handleAt(t, a, srvA, rel)
	if _, ok, _ := store.Lookup(t.Context(), mac(4), nil); !ok {
		t.Fatal("client 4's lease gone after another client's RELEASE")
	}
}

// TestSharedPoolCursorsPart: two servers over one large shared range
// whose scans start at the same place (their random starts can be close)
// race 200 pairs of DISCOVERs, one after the other. The one behind meets
// the other's offers; it must then scan elsewhere, not follow: followed,
// about every second DISCOVER had a claim refused, a wasted write to the
// store each (the benchmark saw one DISCOVER run out of its 64 tries).
func TestSharedPoolCursorsPart(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	store := newMemShared(clk.now)
	mk := func() *Server {
		p := &Pool{First: netip.MustParseAddr("10.0.0.1"), Last: netip.MustParseAddr("10.0.255.254"), Subnet: netip.MustParsePrefix("10.0.0.0/16"), Store: store, now: clk.now}
		if err := p.init(t.Context()); err != nil {
			t.Fatal(err)
		}
		p.cursor = 1000
		return &Server{Pool: p}
	}
	a, b := mk(), mk()
	for i := range 200 {
		for j, s := range []*Server{a, b} {
			hw := net.HardwareAddr{2, 0, byte(j), 0, byte(i >> 8), byte(i)}
			if _, err := s.Pool.offerShared(t.Context(), store, clientFor(hw, nil), netip.Addr{}, clk.now()); err != nil {
				t.Fatalf("DISCOVER %d at server %d: %v", i, j, err)
			}
		}
	}
	if store.claims > 10 {
		t.Errorf("%d claims refused for 400 DISCOVERs, want few: the scan behind followed the other", store.claims)
	}
	t.Logf("claims refused: %d", store.claims)
}
