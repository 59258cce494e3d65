package dhcp

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// randomMAC returns a locally administered unicast MAC from r.
func randomMAC(r *rand.Rand) net.HardwareAddr {
	hw := make(net.HardwareAddr, 6)
	for i := range hw {
		hw[i] = byte(r.Uint32())
	}
	hw[0] = hw[0]&^1 | 2
	return hw
}

func discover(t *testing.T, s *Server, hw net.HardwareAddr) *dhcpv4.DHCPv4 {
	t.Helper()
	return mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(hw)), in67)
}

// TestDiscoverFloodDoesNotStarve fills a /24 pool with offers held for
// DISCOVERs from random MACs that never REQUEST, as a flood does, and
// checks that a real client still gets an offer and its lease, that it
// gets the oldest held offer's address, and that the flooder whose offer
// went to it is NAKed if it asks after all.
func TestDiscoverFloodDoesNotStarve(t *testing.T) {
	p := &Pool{First: netip.MustParseAddr("10.0.0.2"), Last: netip.MustParseAddr("10.0.0.254")}
	s, clk := newFullServer(t, p)
	r := rand.New(rand.NewPCG(1, 2))
	size := 253
	var offers []*dhcpv4.DHCPv4
	var first *dhcpv4.DHCPv4
	var firstMAC net.HardwareAddr
	for i := range size {
		hw := randomMAC(r)
		o := discover(t, s, hw)
		if o == nil {
			t.Fatalf("flood DISCOVER %d: no offer from a pool that is not full", i)
		}
		if i == 0 {
			first, firstMAC = o, hw
		}
		offers = append(offers, o)
		clk.add(time.Millisecond)
	}
	// The pool is on offer to the flood. More flood: each DISCOVER still
	// gets an offer, the address of the oldest offer held.
	for i := range 20 {
		o := discover(t, s, randomMAC(r))
		if o == nil {
			t.Fatalf("flood DISCOVER %d after the pool filled: no offer", size+i)
		}
		if !o.YourIPAddr.Equal(offers[i].YourIPAddr) {
			t.Errorf("flood DISCOVER %d after the pool filled got %v, want %v of the oldest offer", size+i, o.YourIPAddr, offers[i].YourIPAddr)
		}
		clk.add(time.Millisecond)
	}
	// A real client gets the oldest offer still held, the flood's 21st,
	// and its lease.
	offer, ack := doraVia(t, s, &captureConn{}, mac(4242))
	if !isAck(ack) {
		t.Fatalf("real client after the flood: REQUEST answered %v, want ACK", ack)
	}
	if !offer.YourIPAddr.Equal(offers[20].YourIPAddr) {
		t.Errorf("real client offered %v, want %v of the oldest offer", offer.YourIPAddr, offers[20].YourIPAddr)
	}
	// The first flooder's offer was reused: its late REQUEST is refused.
	if late := mustHandle(t, s, selecting(t, firstMAC, first), in67); isAck(late) {
		t.Errorf("REQUEST for an offer given to another client since: ACK %v", late.YourIPAddr)
	}
	assertUnique(t, p)
}

// TestOfferHoldDefault checks that an offer is held for 10 s by default,
// not a minute: another client cannot have the address at 9 s, and can
// at 11 s.
func TestOfferHoldDefault(t *testing.T) {
	p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.100")}
	s, clk := newFullServer(t, p)
	o := discover(t, s, mac(1))
	if o == nil {
		t.Fatal("no offer")
	}
	a := netip.MustParseAddr(o.YourIPAddr.String())
	clk.add(9 * time.Second)
	p.mu.Lock()
	held := !p.assignable(a, clientFor(mac(2), nil), p.now())
	p.mu.Unlock()
	if !held {
		t.Errorf("offer of %v not held at 9 s", a)
	}
	clk.add(2 * time.Second)
	p.mu.Lock()
	free := p.assignable(a, clientFor(mac(2), nil), p.now())
	p.mu.Unlock()
	if !free {
		t.Errorf("offer of %v still held at 11 s; the default hold is 10 s", a)
	}
}

// TestFullPoolKeepsLeases checks that only offers are reused: a pool full
// of bound leases offers nothing, and a reserved address on offer to its
// owner is never given away.
func TestFullPoolKeepsLeases(t *testing.T) {
	p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.101"),
		Reservations: map[string]netip.Addr{mac(9).String(): netip.MustParseAddr("10.0.0.101")}}
	s, _ := newFullServer(t, p)
	dora(t, s, mac(1), false) // 10.0.0.100 bound
	if o := discover(t, s, mac(9)); o == nil || o.YourIPAddr.String() != "10.0.0.101" {
		t.Fatalf("reserved client offered %v", o)
	}
	if o := discover(t, s, mac(2)); o != nil {
		t.Errorf("pool of a lease and a reserved offer offered %v to a stranger", o.YourIPAddr)
	}
}

// TestReturningClientGetsItsAddress checks that a client whose lease
// expired, or which released it, gets its earlier address back while it
// is free, even after other clients came and went.
func TestReturningClientGetsItsAddress(t *testing.T) {
	for _, how := range []string{"expired", "released"} {
		t.Run(how, func(t *testing.T) {
			p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.109"), LeaseTime: time.Hour}
			s, clk := newFullServer(t, p)
			had := dora(t, s, mac(1), false).YourIPAddr
			if how == "released" {
				mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeRelease, dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithClientIP(had)), in67)
			} else {
				clk.add(2 * time.Hour)
			}
			for i := 2; i < 8; i++ { // others come while it is away
				if got := dora(t, s, mac(i), false).YourIPAddr; got.Equal(had) {
					t.Fatalf("client %d got %v, the address of a departed client, with others free", i, got)
				}
			}
			if back := dora(t, s, mac(1), false).YourIPAddr; !back.Equal(had) {
				t.Errorf("returning client got %v, want its earlier %v", back, had)
			}
		})
	}
}
