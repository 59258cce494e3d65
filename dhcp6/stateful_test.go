package dhcp6

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/events"
)

var testPrefix = netip.MustParsePrefix("2001:db8:99::/64")

func statefulServer(t testing.TB, p *Pool) *Server {
	t.Helper()
	if p.Prefix == (netip.Prefix{}) {
		p.Prefix = testPrefix
	}
	s := &Server{Decider: bootDecider, ServerAddr: netip.MustParseAddr("2001:db8:99::1"), Pool: p}
	if tt, ok := t.(*testing.T); ok {
		s.Logger = slog.New(slog.NewTextHandler(tt.Output(), nil))
	}
	if err := s.initServerID(); err != nil {
		t.Fatal(err)
	}
	if err := p.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// exchange sends m to s and returns the reply message, failing the test
// when there is none.
func exchange(t *testing.T, s *Server, m dhcpv6.DHCPv6) *dhcpv6.Message {
	t.Helper()
	r := s.handle(context.Background(), m.ToBytes(), 1, peer6)
	if r == nil {
		t.Fatalf("no reply to %v", m.Type())
	}
	if rr, ok := r.(*dhcpv6.RelayMessage); ok {
		inner, err := rr.GetInnerMessage()
		if err != nil {
			t.Fatal(err)
		}
		return inner
	}
	return r.(*dhcpv6.Message)
}

// leaseOf returns the address, T1/T2 and lifetimes of reply's only IA_NA.
func leaseOf(t *testing.T, reply *dhcpv6.Message) (netip.Addr, *dhcpv6.OptIANA, *dhcpv6.OptIAAddress) {
	t.Helper()
	ia := reply.Options.OneIANA()
	if ia == nil {
		t.Fatalf("%v without IA_NA", reply.MessageType)
	}
	ad := ia.Options.OneAddress()
	if ad == nil {
		t.Fatalf("%v IA_NA without address: %v", reply.MessageType, ia)
	}
	a, _ := netip.AddrFromSlice(ad.IPv6Addr)
	return a, ia, ad
}

func msgOf(t *testing.T, typ dhcpv6.MessageType, from *dhcpv6.Message, mods ...dhcpv6.Modifier) *dhcpv6.Message {
	t.Helper()
	m, err := dhcpv6.NewMessage(mods...)
	if err != nil {
		t.Fatal(err)
	}
	m.MessageType = typ
	m.AddOption(dhcpv6.OptClientID(from.Options.ClientID()))
	return m
}

func withIA(iaid [4]byte, a netip.Addr) dhcpv6.Modifier {
	return func(d dhcpv6.DHCPv6) {
		ia := &dhcpv6.OptIANA{IaId: iaid}
		if a.IsValid() {
			ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: a.AsSlice()})
		}
		d.AddOption(ia)
	}
}

func TestStatefulSolicitRequestRenewPersisted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "leases6")
	store := &dhcp.FileStore{Path: file}
	s := statefulServer(t, &Pool{Store: store})
	sol := pxeSolicit(t)
	adv := exchange(t, s, sol)
	if adv.MessageType != dhcpv6.MessageTypeAdvertise {
		t.Fatalf("Solicit got %v, want Advertise", adv.MessageType)
	}
	a, ia, ad := leaseOf(t, adv)
	if !testPrefix.Contains(a) || a.Compare(netip.MustParseAddr("2001:db8:99::100")) < 0 {
		t.Errorf("advertised %v, want an address of %v past ::ff", a, testPrefix)
	}
	if ia.T1 != 45*time.Minute/2 || ia.T2 != 36*time.Minute || ad.PreferredLifetime != 45*time.Minute || ad.ValidLifetime != time.Hour {
		t.Errorf("T1 %v T2 %v preferred %v valid %v, want 22m30s 36m 45m 1h", ia.T1, ia.T2, ad.PreferredLifetime, ad.ValidLifetime)
	}
	if u := adv.Options.BootFileURL(); u != "tftp://[2001:db8:99::1]/ipxe.efi" {
		t.Errorf("option 59 = %q", u)
	}
	if got, _ := store.Load(t.Context()); len(got) != 0 {
		t.Errorf("an Advertise stored leases: %v", got)
	}

	req, err := dhcpv6.NewRequestFromAdvertise(adv, dhcpv6.WithArchType(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	rep := exchange(t, s, req)
	if got, _, _ := leaseOf(t, rep); rep.MessageType != dhcpv6.MessageTypeReply || got != a {
		t.Fatalf("Request got %v with %v, want a Reply with %v", rep.MessageType, got, a)
	}
	ls, err := dhcp.ParseLeaseFile(mustRead(t, file))
	if err != nil || len(ls) != 1 || ls[0].Addr != a || ls[0].MAC.String() != "52:54:00:01:02:03" || time.Until(ls[0].Expiry) < 59*time.Minute {
		t.Fatalf("lease file holds %+v, %v; want %v for 52:54:00:01:02:03 for an hour", ls, err, a)
	}
	store.Close()

	// A new server on the same file renews the lease, and a second
	// client does not get its address even when it asks for it.
	store2 := &dhcp.FileStore{Path: file}
	defer store2.Close()
	s2 := statefulServer(t, &Pool{Store: store2})
	s2.serverID = s.serverID
	ren := msgOf(t, dhcpv6.MessageTypeRenew, req, withIA(req.Options.OneIANA().IaId, a))
	ren.AddOption(dhcpv6.OptServerID(s.serverID))
	rep = exchange(t, s2, ren)
	if got, _, _ := leaseOf(t, rep); got != a {
		t.Errorf("Renew after restart got %v, want %v", got, a)
	}
	other, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 9, 9, 9}, withIA([4]byte{1}, a))
	if got, _, _ := leaseOf(t, exchange(t, s2, other)); got == a {
		t.Errorf("another client was advertised the leased %v", a)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRapidCommit(t *testing.T) {
	for _, no := range []bool{false, true} {
		store := &dhcp.FileStore{Path: filepath.Join(t.TempDir(), "leases6")}
		s := statefulServer(t, &Pool{Store: store, NoRapidCommit: no})
		sol := pxeSolicit(t)
		sol.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
		r := exchange(t, s, sol)
		ls, _ := store.Load(t.Context())
		if no {
			if r.MessageType != dhcpv6.MessageTypeAdvertise || len(ls) != 0 {
				t.Errorf("NoRapidCommit: got %v, %d leases stored; want an Advertise, none", r.MessageType, len(ls))
			}
			continue
		}
		a, _, _ := leaseOf(t, r)
		if r.MessageType != dhcpv6.MessageTypeReply || r.GetOneOption(dhcpv6.OptionRapidCommit) == nil {
			t.Errorf("Rapid Commit Solicit got %v (rapid commit %v), want a Reply with option 14", r.MessageType, r.GetOneOption(dhcpv6.OptionRapidCommit))
		}
		if len(ls) != 1 || ls[0].Addr != a {
			t.Errorf("stored %v, want the lease of %v", ls, a)
		}
		store.Close()
	}
}

func TestRenewRebindReleaseDecline(t *testing.T) {
	store := &dhcp.FileStore{Path: filepath.Join(t.TempDir(), "leases6")}
	defer store.Close()
	s := statefulServer(t, &Pool{Store: store})
	sol := pxeSolicit(t)
	sol.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	a, _, _ := leaseOf(t, exchange(t, s, sol))
	iaid := sol.Options.OneIANA().IaId
	sid := dhcpv6.OptServerID(s.serverID)

	// Renew of an address the client does not hold, which another
	// client holds: NoBinding. Rebind of it: lifetimes 0.
	other, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 9, 9, 9}, dhcpv6.WithRapidCommit)
	b, _, _ := leaseOf(t, exchange(t, s, other))
	ren := msgOf(t, dhcpv6.MessageTypeRenew, sol, withIA(iaid, b))
	ren.AddOption(sid)
	ia := exchange(t, s, ren).Options.OneIANA()
	if ia == nil || ia.Options.Status() == nil || ia.Options.Status().StatusCode != iana.StatusNoBinding {
		t.Errorf("Renew of another's address: IA_NA %v, want NoBinding", ia)
	}
	reb := msgOf(t, dhcpv6.MessageTypeRebind, sol, withIA(iaid, b))
	if got, _, ad := leaseOf(t, exchange(t, s, reb)); got != b || ad.ValidLifetime != 0 || ad.PreferredLifetime != 0 {
		t.Errorf("Rebind of another's address: %v valid %v, want %v with lifetimes 0", got, ad.ValidLifetime, b)
	}
	// Rebind of its own: extended.
	reb = msgOf(t, dhcpv6.MessageTypeRebind, sol, withIA(iaid, a))
	if got, _, ad := leaseOf(t, exchange(t, s, reb)); got != a || ad.ValidLifetime != time.Hour {
		t.Errorf("Rebind: %v valid %v, want %v for 1h", got, ad.ValidLifetime, a)
	}
	// A Renew without a server identifier is dropped.
	ren = msgOf(t, dhcpv6.MessageTypeRenew, sol, withIA(iaid, a))
	if r := s.handle(context.Background(), ren.ToBytes(), 1, peer6); r != nil {
		t.Errorf("Renew without server ID answered: %v", r)
	}

	// Release: the lease leaves the store.
	rel := msgOf(t, dhcpv6.MessageTypeRelease, sol, withIA(iaid, a))
	rel.AddOption(sid)
	r := exchange(t, s, rel)
	if st := r.Options.Status(); st == nil || st.StatusCode != iana.StatusSuccess {
		t.Errorf("Release: status %v, want Success", st)
	}
	ls, _ := store.Load(t.Context())
	if len(ls) != 1 || ls[0].Addr != b {
		t.Errorf("after Release the store holds %v, want only %v", ls, b)
	}
	// Releasing it again: NoBinding in the IA.
	if ia := exchange(t, s, rel).Options.OneIANA(); ia == nil || ia.Options.Status().StatusCode != iana.StatusNoBinding {
		t.Errorf("second Release: IA_NA %v, want NoBinding", ia)
	}

	// Decline: the address becomes a stored conflict, and the client
	// gets another one.
	dec := msgOf(t, dhcpv6.MessageTypeDecline, other, withIA(other.Options.OneIANA().IaId, b))
	dec.AddOption(sid)
	exchange(t, s, dec)
	ls, _ = store.Load(t.Context())
	if len(ls) != 1 || ls[0].Addr != b || ls[0].Declined.IsZero() {
		t.Errorf("after Decline the store holds %+v, want a conflict on %v", ls, b)
	}
	if got, _, _ := leaseOf(t, exchange(t, s, other)); got == b {
		t.Errorf("declined %v handed out again", b)
	}
}

func TestConfirm(t *testing.T) {
	s := statefulServer(t, &Pool{})
	sol := pxeSolicit(t)
	for _, c := range []struct {
		addr string
		want iana.StatusCode
	}{{"2001:db8:99::1234", iana.StatusSuccess}, {"2001:db8:7::1234", iana.StatusNotOnLink}} {
		m := msgOf(t, dhcpv6.MessageTypeConfirm, sol, withIA([4]byte{1}, netip.MustParseAddr(c.addr)))
		if st := exchange(t, s, m).Options.Status(); st == nil || st.StatusCode != c.want {
			t.Errorf("Confirm %s: status %v, want %v", c.addr, st, c.want)
		}
	}
	if r := s.handle(context.Background(), msgOf(t, dhcpv6.MessageTypeConfirm, sol).ToBytes(), 1, peer6); r != nil {
		t.Errorf("Confirm without addresses answered: %v", r)
	}
}

// TestRelayedClientLinkLayerAddress: a client with a DUID-UUID (as EDK2
// sends) behind a relay that adds option 79 gets a lease with that MAC.
func TestRelayedClientLinkLayerAddress(t *testing.T) {
	store := &dhcp.FileStore{Path: filepath.Join(t.TempDir(), "leases6")}
	defer store.Close()
	s := statefulServer(t, &Pool{Store: store})
	m, err := dhcpv6.NewMessage(dhcpv6.WithRapidCommit, dhcpv6.WithArchType(iana.EFI_X86_64),
		dhcpv6.WithClientID(&dhcpv6.DUIDUUID{UUID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}),
		withIA([4]byte{0, 0, 0, 7}, netip.Addr{}))
	if err != nil {
		t.Fatal(err)
	}
	m.MessageType = dhcpv6.MessageTypeSolicit
	mac := net.HardwareAddr{0x52, 0x54, 0, 0xaa, 0xbb, 0xcc}
	inner, _ := dhcpv6.EncapsulateRelay(m, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:1::1"), net.ParseIP("fe80::5054:ff:feaa:bbcc"))
	inner.AddOption(dhcpv6.OptClientLinkLayerAddress(iana.HWTypeEthernet, mac))
	// A second relay farther from the client, without option 79.
	outer, _ := dhcpv6.EncapsulateRelay(inner, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:2::1"), net.ParseIP("2001:db8:1::1"))
	r := exchange(t, s, outer)
	a, _, _ := leaseOf(t, r)
	ls, _ := store.Load(t.Context())
	if len(ls) != 1 || ls[0].Addr != a || ls[0].MAC.String() != mac.String() {
		t.Errorf("stored %+v, want %v for %v", ls, a, mac)
	}
	if got := s.Pool.Leases(); len(got) != 1 || got[0].MAC.String() != mac.String() || got[0].IAID != [4]byte{0, 0, 0, 7} {
		t.Errorf("Leases() = %+v", got)
	}
}

type failingStore struct{ dhcp.LeaseStore }

func (failingStore) Load(context.Context) ([]dhcp.Lease, error) { return nil, nil }
func (failingStore) Save(context.Context, dhcp.Lease) error     { return errors.New("disk full") }
func (failingStore) Delete(context.Context, netip.Addr) error   { return errors.New("disk full") }

// TestStoreFailureNoReply: no Reply grants a lease the store did not
// save.
func TestStoreFailureNoReply(t *testing.T) {
	s := statefulServer(t, &Pool{Store: failingStore{}})
	sol := pxeSolicit(t)
	if adv := exchange(t, s, sol); adv.MessageType != dhcpv6.MessageTypeAdvertise {
		t.Fatalf("got %v, want an Advertise (nothing to store)", adv.MessageType)
	}
	sol.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	if r := s.handle(context.Background(), sol.ToBytes(), 1, peer6); r != nil {
		t.Errorf("Rapid Commit with a failing store answered: %v", r)
	}
}

func TestPoolRange(t *testing.T) {
	s := statefulServer(t, &Pool{First: netip.MustParseAddr("2001:db8:99::10"), Last: netip.MustParseAddr("2001:db8:99::11")})
	seen := map[netip.Addr]bool{}
	for i := range 3 {
		m, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 0, 0, byte(i)}, dhcpv6.WithRapidCommit)
		r := exchange(t, s, m)
		ia := r.Options.OneIANA()
		if i < 2 {
			a, _, _ := leaseOf(t, r)
			if seen[a] || (a != netip.MustParseAddr("2001:db8:99::10") && a != netip.MustParseAddr("2001:db8:99::11")) {
				t.Errorf("client %d got %v", i, a)
			}
			seen[a] = true
			continue
		}
		if ia == nil || ia.Options.Status() == nil || ia.Options.Status().StatusCode != iana.StatusNoAddrsAvail {
			t.Errorf("third client in a pool of two: IA_NA %v, want NoAddrsAvail", ia)
		}
	}
	for _, p := range []*Pool{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24")},
		{Prefix: netip.MustParsePrefix("2001:db8::/124")},
		{Prefix: testPrefix, First: netip.MustParseAddr("2001:db8:98::1"), Last: netip.MustParseAddr("2001:db8:99::1")},
	} {
		if err := p.check(); err == nil {
			t.Errorf("Pool{%v %v-%v}.check() = nil, want an error", p.Prefix, p.First, p.Last)
		}
	}
	p := Pool{Prefix: testPrefix}
	if err := p.check(); err != nil || p.first != netip.MustParseAddr("2001:db8:99::100") || p.last != netip.MustParseAddr("2001:db8:99:0:ffff:ffff:ffff:ff7f") {
		t.Errorf("default range %v-%v, %v", p.first, p.last, err)
	}
}

// FuzzStatefulHandle feeds arbitrary datagrams to a stateful server,
// seeded with the firmware's Solicits (nbp/testdata/captures6): no
// panic, and any reply encodes and decodes.
func FuzzStatefulHandle(f *testing.F) {
	caps, _ := filepath.Glob("../nbp/testdata/captures6/*.bin")
	for _, c := range caps {
		b, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, dhcpv6.WithRapidCommit, dhcpv6.WithArchType(iana.EFI_X86_64))
	f.Add(m.ToBytes())
	relay, _ := dhcpv6.EncapsulateRelay(m, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:1::1"), net.ParseIP("fe80::2"))
	relay.AddOption(dhcpv6.OptClientLinkLayerAddress(iana.HWTypeEthernet, net.HardwareAddr{2, 0, 0, 0, 0, 1}))
	f.Add(relay.ToBytes())
	s := statefulServer(f, &Pool{First: netip.MustParseAddr("2001:db8:99::10"), Last: netip.MustParseAddr("2001:db8:99::2f")})
	s.Hook = events.HookFunc(func(events.Event) {}) // fuzz the events' decoding too
	f.Fuzz(func(t *testing.T, b []byte) {
		r := s.handle(context.Background(), b, 1, peer6)
		if r == nil {
			return
		}
		if _, err := dhcpv6.FromBytes(r.ToBytes()); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}

// TestMACFromLinkLocal: EDK2's Solicit (captured, DUID-UUID) from its
// EUI-64 link-local address gets a lease recorded with the NIC's MAC.
func TestMACFromLinkLocal(t *testing.T) {
	b, err := os.ReadFile("../nbp/testdata/captures6/ovmf-pxe6-2.bin")
	if err != nil {
		t.Fatal(err)
	}
	m, err := dhcpv6.MessageFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	s := statefulServer(t, &Pool{})
	from := &net.UDPAddr{IP: net.ParseIP("fe80::5054:ff:fe12:3456"), Port: 546}
	r := s.handle(context.Background(), m.ToBytes(), 1, from)
	if r == nil {
		t.Fatal("no reply to the captured Solicit")
	}
	ls := s.Pool.Leases()
	if len(ls) != 1 || ls[0].MAC.String() != "52:54:00:12:34:56" {
		t.Errorf("leases %+v, want one for 52:54:00:12:34:56", ls)
	}
	for in, want := range map[string]string{"fe80::5054:ff:fe12:3456": "52:54:00:12:34:56", "fe80::1": "", "2001:db8::5054:ff:fe12:3456": "", "fe80::a8bb:ccff:fedd:eeff": "aa:bb:cc:dd:ee:ff"} {
		if got := eui64MAC(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("eui64MAC(%s) = %q, want %q", in, got, want)
		}
	}
}
