package dhcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestRenewRelayedClient checks the messages a client of a relayed subnet
// sends to the server directly, unicast with ciaddr and without giaddr
// (RFC 2131 §4.4.5, §4.4.6): they are served from the pool of ciaddr's
// subnet, not from the pool of the segment the server sits on (which
// would NAK the address as another subnet's, or stay silent without
// one). A broadcast with the same ciaddr, from the server's own segment,
// is still the segment's business.
func TestRenewRelayedClient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		local bool // the server also has a pool for its own segment
	}{
		{"relayed pool only", false},
		{"beside a pool of the server's segment", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newFullServer(t, &Pool{LeaseTime: time.Hour})
			relayed := &Pool{First: netip.MustParseAddr("10.20.1.1"), Last: netip.MustParseAddr("10.20.1.9"),
				Subnet: netip.MustParsePrefix("10.20.0.0/16"), LeaseTime: time.Hour}
			relayed.now = clk.now
			if err := relayed.init(t.Context()); err != nil {
				t.Fatal(err)
			}
			s.Pools = []*Pool{relayed}
			if !tc.local {
				s.Pool = nil
			}
			hw := mac(7)
			gi := dhcpv4.WithGatewayIP(net.IPv4(10, 20, 0, 1))
			offer := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(hw), gi), in67)
			if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
				t.Fatalf("relayed DISCOVER: %v, want OFFER", offer)
			}
			ack := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw), gi,
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr))), in67)
			if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
				t.Fatalf("relayed REQUEST: %v, want ACK", ack)
			}
			a := ack.YourIPAddr
			before := relayed.Leases()[0].Expiry

			// RENEWING: unicast from the client's address to the server's.
			clk.add(30 * time.Minute)
			unicast := inbound{port: ServerPort, src: netip.AddrPortFrom(netip.MustParseAddr(a.String()), ClientPort), dst: testSrv}
			renew := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw), dhcpv4.WithClientIP(a))
			r := mustHandle(t, s, renew, unicast)
			if r == nil || r.MessageType() != dhcpv4.MessageTypeAck || !r.YourIPAddr.Equal(a) {
				t.Fatalf("unicast RENEW of %v (ciaddr, no giaddr): %v, want ACK of the relayed pool's lease", a, r)
			}
			if got := net.IP(r.Options.Get(dhcpv4.OptionSubnetMask)).String(); got != "255.255.0.0" {
				t.Errorf("RENEW's ACK: mask %s, want the relayed pool's 255.255.0.0", got)
			}
			if l := relayed.Leases(); len(l) != 1 || !l[0].Expiry.After(before) {
				t.Errorf("relayed lease after the RENEW: %v (expiry was %v)", l, before)
			}

			// A broadcast with that ciaddr on the server's own segment: not
			// an ACK from the relayed pool.
			bcast := inbound{port: ServerPort, src: unicast.src, dst: netip.AddrFrom4([4]byte{255, 255, 255, 255})}
			if r := mustHandle(t, s, renew, bcast); r != nil && r.MessageType() == dhcpv4.MessageTypeAck {
				t.Errorf("broadcast REBIND of %v from the server's segment: ACK %v, want no ACK", a, r.Summary())
			}

			// RELEASE, unicast too: the lease is freed.
			rel := plainRequest(t, dhcpv4.MessageTypeRelease, dhcpv4.WithHwAddr(hw), dhcpv4.WithClientIP(a),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ack.ServerIdentifier())))
			if r := mustHandle(t, s, rel, unicast); r != nil {
				t.Errorf("RELEASE: reply %v, want none", r)
			}
			if l := relayed.Leases(); len(l) != 0 {
				t.Errorf("relayed leases after a unicast RELEASE: %v, want none", l)
			}
		})
	}
}
