package dhcp

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// The table of RFC 3074 §6 holds 256 distinct values.
func TestLoadBalanceTableIsPermutation(t *testing.T) {
	var seen [256]bool
	for i, v := range loadbTable {
		if seen[v] {
			t.Fatalf("loadbTable[%d] = %d repeats", i, v)
		}
		seen[v] = true
	}
}

// Expected values follow by hand from the hash function of RFC 3074 §6:
// the empty key hashes to its length 0; key {k} to T[1^k]; key {a,b} to
// T[T[2^b]^a]. T[0]=251, T[1]=175, T[3]=215, T[2]=119.
func TestLoadBalanceHash(t *testing.T) {
	T := func(i int) uint8 { return loadbTable[i] }
	cases := []struct {
		key  []byte
		want uint8
	}{
		{nil, 0},
		{[]byte{0x01}, 251},                 // T[1^1]=T[0]
		{[]byte{0x00}, 175},                 // T[1]
		{[]byte{0x02}, 215},                 // T[3]
		{[]byte{0x00, 0x00}, T(int(119))},   // T[T[2]^0] = T[119]
		{[]byte{0x05, 0x02}, T(251 ^ 0x05)}, // T[T[2^2]^5] = T[T[0]^5]
	}
	for _, c := range cases {
		if got := LoadBalanceHash(c.key); got != c.want {
			t.Errorf("LoadBalanceHash(%x) = %d, want %d", c.key, got, c.want)
		}
	}
	if T(119) != 150 || T(251^5) != 234 {
		t.Errorf("table entries T[119]=%d T[254]=%d, want 150 and 234 (RFC 3074 §6, as ISC dhcpd prints it ten a row)", T(119), T(251^5))
	}
}

// Random MACs split within a few percent between 2 and 3 servers, and
// every bucket has exactly one owner.
func TestSplitBalanced(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 3} {
		count := make([]int, n)
		const clients = 30000
		for range clients {
			mac := make([]byte, 6)
			for i := range mac {
				mac[i] = byte(r.Uint32())
			}
			b := LoadBalanceHash(mac)
			owners := 0
			for i := range n {
				if (Split{Index: i, N: n}).Serves(b) {
					owners++
					count[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("bucket %d has %d owners among %d", b, owners, n)
			}
		}
		for i, c := range count {
			if f := float64(c) * float64(n) / clients; f < 0.95 || f > 1.05 {
				t.Errorf("N=%d server %d got %d of %d clients (%.3f of fair share)", n, i, c, clients, f)
			}
		}
	}
}

func TestServerBalanced(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	req, err := dhcpv4.NewDiscovery(mac)
	if err != nil {
		t.Fatal(err)
	}
	b := LoadBalanceHash(mac)
	mine := Split{Index: int(b) % 2, N: 2}
	peer := Split{Index: 1 - int(b)%2, N: 2}
	if !(&Server{Balancer: mine}).balanced(req, in67) {
		t.Errorf("server owning bucket %d does not answer", b)
	}
	if (&Server{Balancer: peer}).balanced(req, in67) {
		t.Errorf("server not owning bucket %d answers", b)
	}
	req.NumSeconds = 10
	if !(&Server{Balancer: peer, BalanceSecs: 10}).balanced(req, in67) {
		t.Errorf("secs 10 >= BalanceSecs 10: peer's client not answered")
	}
	req.Options.Update(dhcpv4.OptClientIdentifier([]byte{1, 2, 3}))
	if got := LoadBalanceHash(BalanceKey(req)); got != LoadBalanceHash([]byte{1, 2, 3}) {
		t.Errorf("BalanceKey does not use option 61")
	}
}

// TestBalancedThroughRespond drives a full server that does not own its
// client's bucket through serveDatagram: the DISCOVER is left to the
// peer until secs reaches BalanceSecs; then the REQUEST naming this
// server (secs 0 again, as some firmware sends) is acknowledged, a
// unicast RENEWING REQUEST too, while a broadcast REBINDING or
// INIT-REBOOT REQUEST is left to the bucket's owner; a RELEASE naming
// this server is carried out.
func TestBalancedThroughRespond(t *testing.T) {
	hw := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x57}
	peer := Split{Index: 1 - int(LoadBalanceHash(hw))%2, N: 2}
	s, _ := newFullServer(t, &Pool{})
	s.Balancer, s.BalanceSecs = peer, 5
	bcast := inbound{port: ServerPort, dst: netip.AddrFrom4([4]byte{255, 255, 255, 255}), local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
	send := func(what string, req *dhcpv4.DHCPv4, in inbound) *dhcpv4.DHCPv4 {
		t.Helper()
		out := &sink{}
		b, err := AppendMessage(nil, req, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.serveDatagram(t.Context(), &serverConn{conn: out, localPort: ServerPort}, b, in, nil, newPktinfo())
		if len(out.wrote) == 0 {
			return nil
		}
		r, err := dhcpv4.FromBytes(out.wrote[0])
		if err != nil {
			t.Fatalf("%s: reply: %v", what, err)
		}
		return r
	}
	if r := send("DISCOVER", plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(hw)), bcast); r != nil {
		t.Fatalf("DISCOVER of a peer's bucket answered: %v", r.MessageType())
	}
	disc := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(hw))
	disc.NumSeconds = 5
	offer := send("DISCOVER secs 5", disc, bcast)
	if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("DISCOVER with secs 5 >= BalanceSecs: %v, want OFFER", offer)
	}
	sel := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testSrv.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
	ack := send("REQUEST naming this server", sel, bcast)
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("SELECTING REQUEST naming this server: %v, want ACK (not bucket-checked)", ack)
	}
	renew := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw), dhcpv4.WithClientIP(ack.YourIPAddr))
	unicast := bcast
	unicast.dst = testSrv
	unicast.src = netip.AddrPortFrom(netip.MustParseAddr(ack.YourIPAddr.String()), 68)
	if r := send("RENEWING", renew, unicast); r == nil || r.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("unicast RENEWING REQUEST: %v, want ACK", r)
	}
	if r := send("REBINDING", renew, bcast); r != nil {
		t.Fatalf("broadcast REBINDING REQUEST of a peer's bucket answered: %v", r.MessageType())
	}
	reboot := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)))
	if r := send("INIT-REBOOT", reboot, bcast); r != nil {
		t.Fatalf("INIT-REBOOT REQUEST of a peer's bucket answered: %v", r.MessageType())
	}
	rel := plainRequest(t, dhcpv4.MessageTypeRelease, dhcpv4.WithHwAddr(hw), dhcpv4.WithClientIP(ack.YourIPAddr),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testSrv.AsSlice())))
	send("RELEASE", rel, unicast)
	if ls := s.Pool.Leases(); len(ls) != 0 {
		t.Fatalf("after RELEASE naming this server: leases %v, want none", ls)
	}
}

// The mixing table of RFC 3074 §6 is a permutation of 0-255, beginning
// 251, 175, 119 and ending 234, 151 as printed there (and in Kea's
// query_filter.cc, which cites it); a mistyped entry would repeat one
// value and leave out another, and move clients between buckets.
func TestLoadbTablePermutation(t *testing.T) {
	var seen [256]bool
	for i, v := range loadbTable {
		if seen[v] {
			t.Errorf("loadbTable[%d] = %d, a value already in the table", i, v)
		}
		seen[v] = true
	}
	if loadbTable[0] != 251 || loadbTable[1] != 175 || loadbTable[2] != 119 || loadbTable[254] != 234 || loadbTable[255] != 151 {
		t.Errorf("loadbTable starts %v and ends %v, want [251 175 119] and [234 151]", loadbTable[:3], loadbTable[254:])
	}
}

// RFC 3074 §4 hashes at most the first 16 bytes of the client
// identifier, or of the chaddr (hlen of them): a 19-byte RFC 4361
// identifier lands in the bucket of its first 16 bytes.
func TestBalanceKeySTID(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	req, err := dhcpv4.NewDiscovery(mac)
	if err != nil {
		t.Fatal(err)
	}
	if got := BalanceKey(req); string(got) != string(mac) {
		t.Errorf("BalanceKey without option 61 = %x, want the chaddr %x", got, mac)
	}
	id := []byte{0xff, 0, 0, 0, 1, 0, 2, 0, 0, 0xab, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}
	req.Options.Update(dhcpv4.OptClientIdentifier(id))
	got := BalanceKey(req)
	if string(got) != string(id[:16]) {
		t.Fatalf("BalanceKey with a %d-byte option 61 = %x, want its first 16 bytes %x", len(id), got, id[:16])
	}
	if LoadBalanceHash(got) != LoadBalanceHash(id[:16]) {
		t.Errorf("bucket of the cut key differs")
	}
}

// The example HBA of RFC 3074 §5.2 serves buckets 0-47 and 64-127.
func TestHBA(t *testing.T) {
	var h HBA
	for i := range 6 {
		h[i] = 0xff
	}
	for i := 8; i < 16; i++ {
		h[i] = 0xff
	}
	for b := range 256 {
		want := b <= 47 || (b >= 64 && b <= 127)
		if got := h.Serves(uint8(b)); got != want {
			t.Errorf("bucket %d: Serves = %v, want %v", b, got, want)
		}
	}
	// Within an octet the least significant bit is the smallest bucket.
	h = HBA{0: 0x01, 31: 0x80}
	if !h.Serves(0) || h.Serves(1) || !h.Serves(255) || h.Serves(254) {
		t.Errorf("bit order: HBA{0:0x01, 31:0x80} serves 0:%v 1:%v 254:%v 255:%v, want buckets 0 and 255 only", h.Serves(0), h.Serves(1), h.Serves(254), h.Serves(255))
	}
	var _ Balancer = &h
}

// slowShared is a memShared whose Lookup waits for gate: a shared store
// that answers late.
type slowShared struct {
	*memShared
	gate chan struct{}
}

func (s *slowShared) Lookup(ctx context.Context, mac net.HardwareAddr, cid []byte) (Lease, bool, error) {
	<-s.gate
	return s.memShared.Lookup(ctx, mac, cid)
}

// TestPeerRequestsSkipStoreQueue: with its one pending slot taken by an
// own client's DISCOVER that waits for a slow shared store, a server of
// two (RFC 3074 split) still reads on at once past a DISCOVER of its
// peer's bucket and a REQUEST naming the other server: neither touches
// the store, so neither waits for a slot (they did, and the read loop
// stopped behind the store), and neither is answered.
func TestPeerRequestsSkipStoreQueue(t *testing.T) {
	store := &slowShared{memShared: newMemShared(time.Now), gate: make(chan struct{})}
	s, _ := newFullServer(t, &Pool{Store: store})
	s.Balancer = Split{Index: 0, N: 2}
	var own, peer net.HardwareAddr
	for i := 0; own == nil || peer == nil; i++ {
		hw := net.HardwareAddr{0x52, 0x54, 0, 0, byte(i >> 8), byte(i)}
		if s.Balancer.Serves(LoadBalanceHash(hw)) {
			own = hw
		} else {
			peer = hw
		}
	}
	out := &sink{}
	sc := &serverConn{conn: out, localPort: ServerPort, sem: make(chan struct{}, 1)}
	bcast := inbound{port: ServerPort, dst: netip.AddrFrom4([4]byte{255, 255, 255, 255}), local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
	send := func(req *dhcpv4.DHCPv4) {
		b, err := AppendMessage(nil, req, 0)
		if err != nil {
			t.Error(err)
			return
		}
		s.serveDatagram(t.Context(), sc, b, bcast, nil, newPktinfo())
	}
	send(plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(own))) // takes the slot, waits in Lookup
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(peer)))
		send(plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(own),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 3))),
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 101)))))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		close(store.gate)
		<-done
		sc.wg.Wait()
		t.Fatal("a peer's DISCOVER or a REQUEST for another server waited for a pending slot behind the store")
	}
	if n := len(out.wrote); n != 0 {
		t.Errorf("%d replies before the store answered, want none", n)
	}
	close(store.gate)
	sc.wg.Wait()
	if n := len(out.wrote); n != 1 {
		t.Errorf("%d replies in all, want 1 (the own client's OFFER)", n)
	}
}

// TestStoreWorkerReused: requests that wait for a shared store, one
// after another, are answered by one store worker, not a goroutine each
// (whose stack grew anew for every request).
func TestStoreWorkerReused(t *testing.T) {
	s, _ := newFullServer(t, &Pool{Store: newMemShared(time.Now), First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.200")})
	out := &lockedSink{}
	sc := &serverConn{conn: out, localPort: ServerPort, sem: make(chan struct{}, 8), work: make(chan storeJob)}
	bcast := inbound{port: ServerPort, dst: netip.AddrFrom4([4]byte{255, 255, 255, 255}), local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
	for i := range 20 {
		b, err := AppendMessage(nil, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(net.HardwareAddr{0x52, 0x54, 0, 0, 1, byte(i)})), 0)
		if err != nil {
			t.Fatal(err)
		}
		s.serveDatagram(t.Context(), sc, b, bcast, nil, newPktinfo())
		deadline := time.Now().Add(5 * time.Second)
		for out.n() < i+1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if out.n() != i+1 {
			t.Fatalf("DISCOVER %d: %d replies in all, want %d", i, out.n(), i+1)
		}
		// The worker gives its pending slot back, then waits for work.
		for len(sc.sem) > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(sc.work)
	sc.wg.Wait()
	if n := sc.workers.Load(); n != 1 {
		t.Errorf("%d store workers started for 20 requests in a row, want 1", n)
	}
}

// lockedSink counts what the server writes, safe for concurrent use.
type lockedSink struct {
	net.PacketConn
	mu    sync.Mutex
	wrote int
}

func (l *lockedSink) n() int { l.mu.Lock(); defer l.mu.Unlock(); return l.wrote }

func (l *lockedSink) WriteTo(b []byte, _ net.Addr) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wrote++
	return len(b), nil
}
