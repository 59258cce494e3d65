package dhcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

var in67 = inbound{port: ServerPort, src: netip.MustParseAddrPort("0.0.0.0:68")}

// countingDecider boots every boot client with b and counts its calls.
type countingDecider struct {
	mu    sync.Mutex
	calls int
	b     Boot
	err   error
}

func (d *countingDecider) Decide(ctx context.Context, req *dhcpv4.DHCPv4) (Boot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return d.b, d.err
}

func mustHandle(t *testing.T, s *Server, req *dhcpv4.DHCPv4, in inbound) *dhcpv4.DHCPv4 {
	t.Helper()
	// Go through the wire format both ways, as the server does.
	b, err := AppendMessage(nil, req, 0)
	if err != nil {
		t.Fatal(err)
	}
	req, err = ParseRequest(b)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	r, err := s.handle(t.Context(), req, in, testSrv)
	if errors.Is(err, ErrPoolExhausted) {
		return nil
	}
	if err != nil {
		t.Fatalf("handle(%v): %v", req.MessageType(), err)
	}
	if r != nil {
		r = replyRoundTrip(t, r, maxReplySize(req))
	}
	return r
}

func TestProxyAnswersOnlyBootClients(t *testing.T) {
	d := &countingDecider{b: Boot{File: "undionly.kpxe"}}
	s := &Server{Decider: d}
	if r := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover), in67); r != nil {
		t.Fatalf("proxy answered a non-PXE DISCOVER: %v", r)
	}
	r := mustHandle(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), in67)
	if r == nil || r.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("proxy DISCOVER reply = %v, want OFFER", r)
	}
	if !r.YourIPAddr.IsUnspecified() || r.BootFileName != "undionly.kpxe" {
		t.Errorf("proxy OFFER yiaddr %v file %q, want no address and the file", r.YourIPAddr, r.BootFileName)
	}
	if r.Options.Has(dhcpv4.OptionIPAddressLeaseTime) || r.Options.Has(dhcpv4.OptionSubnetMask) {
		t.Errorf("proxy OFFER carries lease options: %v", r.Options)
	}
	// A REQUEST to the address-handing server is not ours.
	other := pxeRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 254))))
	if r := mustHandle(t, s, other, in67); r != nil {
		t.Errorf("proxy answered a REQUEST for another server: %v", r)
	}
	// Decider errors keep the server silent.
	d.err = errors.New("no such machine")
	if r, err := s.handle(t.Context(), pxeRequest(t, dhcpv4.MessageTypeDiscover), in67, testSrv); r != nil || !errors.Is(err, d.err) {
		t.Errorf("decider failed: reply %v, error %v; want no reply and the error (logged)", r, err)
	}
}

// TestProxyPort4011 covers firmware that ignores the "skip discovery"
// proxy offer and asks port 4011 instead: it must get an ACK with the file.
func TestProxyPort4011(t *testing.T) {
	for _, style := range []ProxyStyle{ProxyDirect, ProxyBINL} {
		t.Run(style.String(), func(t *testing.T) {
			s := &Server{Decider: StaticBoot(Boot{File: "grubx64.efi", ProxyStyle: style})}
			req := pxeRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 77)))
			in := inbound{port: PXEPort, src: netip.MustParseAddrPort("10.0.0.77:68"), dst: testSrv}
			r := mustHandle(t, s, req, in)
			if r == nil || r.MessageType() != dhcpv4.MessageTypeAck {
				t.Fatalf("4011 REQUEST reply = %v, want ACK", r)
			}
			if r.BootFileName != "grubx64.efi" || r.ClassIdentifier() != "PXEClient" || r.ClientIPAddr.String() != "10.0.0.77" {
				t.Errorf("4011 ACK file %q class %q ciaddr %v", r.BootFileName, r.ClassIdentifier(), r.ClientIPAddr)
			}
			if dst := replyDest(req, r, in); dst != in.src {
				t.Errorf("4011 ACK goes to %v, want the requester %v", dst, in.src)
			}
			if r := mustHandle(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), in); r != nil {
				t.Errorf("DISCOVER on 4011 answered: %v", r)
			}
			// On port 67 the OFFER carries the file, unless the style is
			// BINL, which sends the client to port 4011 for it.
			offer := mustHandle(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), in67)
			if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
				t.Fatalf("DISCOVER on 67: reply %v, want OFFER", offer)
			}
			if got, want := offer.BootFileName != "" || offer.Options.Has(dhcpv4.OptionVendorSpecificInformation), style == ProxyDirect; got != want {
				t.Errorf("%s proxy OFFER: file %q, option 43 %v; want file and 43 only for direct", style, offer.BootFileName, offer.Options.Has(dhcpv4.OptionVendorSpecificInformation))
			}
		})
	}
}

// TestRememberClient covers syslinux.efi's second exchange: options 53,
// 57, 55 only, no PXE vendor class.
func TestRememberClient(t *testing.T) {
	d := &countingDecider{b: Boot{File: "syslinux.efi", ConfigFile: "pxelinux.cfg/default"}}
	s := &Server{Decider: d}
	mustHandle(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), in67)
	r := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover), in67)
	if r == nil || r.BootFileName != "syslinux.efi" || string(r.Options.Get(dhcpv4.OptionPXELinuxConfigFile)) != "pxelinux.cfg/default" {
		t.Fatalf("second exchange without PXE options: reply %v, want the remembered boot", r)
	}
	if d.calls != 1 {
		t.Errorf("decider called %d times, want 1 (the second answer is remembered)", d.calls)
	}
	osClient := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("udhcp 1.36.1")))
	if r := mustHandle(t, s, osClient, in67); r != nil {
		t.Errorf("an OS DHCP client with its own vendor class was answered from memory: %v", r)
	}
	other := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(net.HardwareAddr{2, 0, 0, 0, 0, 9}))
	if r := mustHandle(t, s, other, in67); r != nil {
		t.Errorf("unknown plain client answered: %v", r)
	}
	off := &Server{Decider: d, RememberFor: -1}
	mustHandle(t, off, pxeRequest(t, dhcpv4.MessageTypeDiscover), in67)
	if r := mustHandle(t, off, plainRequest(t, dhcpv4.MessageTypeDiscover), in67); r != nil {
		t.Errorf("RememberFor < 0 still answered the plain client")
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newFullServer(t *testing.T, p *Pool) (*Server, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p.now = clk.now
	if p.First == (netip.Addr{}) {
		p.First, p.Last = netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("10.0.0.102")
	}
	if err := p.init(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &Server{Pool: p, Decider: StaticBoot(Boot{File: "ipxe.efi"})}, clk
}

// dora runs DISCOVER, OFFER, REQUEST, ACK for mac and returns the ACK.
func dora(t *testing.T, s *Server, mac net.HardwareAddr, pxe bool) *dhcpv4.DHCPv4 {
	t.Helper()
	mk := plainRequest
	if pxe {
		mk = pxeRequest
	}
	offer := mustHandle(t, s, mk(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac)), in67)
	if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("DISCOVER from %v: reply %v, want OFFER", mac, offer)
	}
	req := mk(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
	ack := mustHandle(t, s, req, in67)
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck || !ack.YourIPAddr.Equal(offer.YourIPAddr) {
		t.Fatalf("REQUEST from %v for %v: reply %v, want ACK", mac, offer.YourIPAddr, ack)
	}
	return ack
}

func mac(i int) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)} }

func TestFullLifecycle(t *testing.T) {
	store := &FileStore{Path: filepath.Join(t.TempDir(), "leases")}
	p := &Pool{Routers: []netip.Addr{testSrv}, DNS: []netip.Addr{testSrv}, LeaseTime: time.Hour, Store: store}
	s, clk := newFullServer(t, p)

	ack := dora(t, s, mac(1), true)
	if ack.BootFileName != "ipxe.efi" || ack.ClassIdentifier() != "PXEClient" {
		t.Errorf("PXE client's ACK: file %q class %q", ack.BootFileName, ack.ClassIdentifier())
	}
	if got := net.IP(ack.Options.Get(dhcpv4.OptionSubnetMask)).String(); got != "255.255.255.0" {
		t.Errorf("subnet mask %s", got)
	}
	if got := ack.IPAddressLeaseTime(0); got != time.Hour {
		t.Errorf("lease time %v", got)
	}
	if got := ack.IPAddressRenewalTime(0); got != 30*time.Minute {
		t.Errorf("T1 %v", got)
	}
	plain := dora(t, s, mac(2), false)
	if plain.BootFileName != "" || plain.Options.Has(dhcpv4.OptionClassIdentifier) {
		t.Errorf("plain client got boot options: %v", plain)
	}
	if plain.YourIPAddr.Equal(ack.YourIPAddr) {
		t.Fatalf("two clients got %v", plain.YourIPAddr)
	}
	if l, _ := store.Load(t.Context()); len(l) != 2 {
		t.Errorf("store holds %d leases, want 2", len(l))
	}

	// Renewing: unicast with ciaddr.
	clk.add(40 * time.Minute)
	renew := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(2)), dhcpv4.WithClientIP(plain.YourIPAddr))
	r := mustHandle(t, s, renew, inbound{port: ServerPort, dst: testSrv})
	if r == nil || r.MessageType() != dhcpv4.MessageTypeAck || !r.ClientIPAddr.Equal(plain.YourIPAddr) {
		t.Fatalf("renew: %v", r)
	}
	// Another client renewing an address it does not hold gets a NAK.
	steal := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(3)), dhcpv4.WithClientIP(plain.YourIPAddr))
	if r := mustHandle(t, s, steal, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("renewing someone else's address: %v, want NAK", r)
	}
	// INIT-REBOOT outside the subnet: NAK; unknown client in subnet: silence.
	reboot := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(4)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 168, 1, 5))))
	if r := mustHandle(t, s, reboot, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("INIT-REBOOT off-subnet: %v, want NAK", r)
	}
	reboot = plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(4)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 102))))
	if r := mustHandle(t, s, reboot, in67); r != nil {
		t.Errorf("INIT-REBOOT of an unknown client: %v, want silence", r)
	}
	// INIT-REBOOT for an address other than the one the client holds: NAK.
	wrong := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(2)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 102))))
	if r := mustHandle(t, s, wrong, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("INIT-REBOOT for another address than the client's lease: %v, want NAK", r)
	}
	// INFORM: options, no address, no lease time.
	inform := plainRequest(t, dhcpv4.MessageTypeInform, dhcpv4.WithHwAddr(mac(9)), dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 9)))
	if r := mustHandle(t, s, inform, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeAck || !r.YourIPAddr.IsUnspecified() || r.Options.Has(dhcpv4.OptionIPAddressLeaseTime) {
		t.Errorf("INFORM: %v", r)
	}

	// Pool of 3: the third client gets the last address, a fourth none.
	third := dora(t, s, mac(3), false)
	if r := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(5))), in67); r != nil {
		t.Errorf("exhausted pool offered %v", r.YourIPAddr)
	}
	// RELEASE frees it for the fourth.
	rel := plainRequest(t, dhcpv4.MessageTypeRelease, dhcpv4.WithHwAddr(mac(3)), dhcpv4.WithClientIP(third.YourIPAddr))
	if r := mustHandle(t, s, rel, in67); r != nil {
		t.Errorf("RELEASE answered: %v", r)
	}
	fourth := dora(t, s, mac(5), false)
	if !fourth.YourIPAddr.Equal(third.YourIPAddr) {
		t.Errorf("after RELEASE of %v the new client got %v", third.YourIPAddr, fourth.YourIPAddr)
	}
	// DECLINE takes the address out for a while; the client gets another.
	dec := plainRequest(t, dhcpv4.MessageTypeDecline, dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)))
	mustHandle(t, s, dec, in67)
	if r := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(1))), in67); r != nil {
		t.Errorf("after DECLINE in a full pool, offer %v", r.YourIPAddr)
	}
	// Expiry: after the lease time (and the decline hold) addresses return.
	clk.add(2 * time.Hour)
	again := dora(t, s, mac(6), false)
	if !p.inRange(netip.MustParseAddr(again.YourIPAddr.String())) {
		t.Errorf("after expiry got %v", again.YourIPAddr)
	}
	// The expired client that comes back keeps its address if still free.
	back := dora(t, s, mac(2), false)
	if !back.YourIPAddr.Equal(plain.YourIPAddr) && !back.YourIPAddr.Equal(again.YourIPAddr) {
		t.Logf("mac 2 came back to %v (had %v)", back.YourIPAddr, plain.YourIPAddr)
	}
	assertUnique(t, p)
}

func assertUnique(t *testing.T, p *Pool) {
	t.Helper()
	seen := map[netip.Addr]string{}
	for _, l := range p.Leases() {
		if m, dup := seen[l.Addr]; dup {
			t.Errorf("address %v leased to %s and %v", l.Addr, m, l.MAC)
		}
		seen[l.Addr] = l.MAC.String()
	}
}

func TestFullReservationAndWrongServer(t *testing.T) {
	p := &Pool{Reservations: map[string]netip.Addr{mac(7).String(): netip.MustParseAddr("10.0.0.7")}}
	s, _ := newFullServer(t, p)
	if ack := dora(t, s, mac(7), false); ack.YourIPAddr.String() != "10.0.0.7" {
		t.Errorf("reserved client got %v, want 10.0.0.7", ack.YourIPAddr)
	}
	// A client that chose another server's offer: our offer is dropped.
	offer := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(8))), in67)
	req := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(8)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 254))),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
	if r := mustHandle(t, s, req, in67); r != nil {
		t.Errorf("REQUEST for another server answered: %v", r)
	}
	// Requests arriving on an interface outside the pool's subnet: silence.
	r, err := s.handle(t.Context(), plainRequest(t, dhcpv4.MessageTypeDiscover), in67, netip.MustParseAddr("192.168.7.1"))
	if err != nil || r != nil {
		t.Errorf("DISCOVER on a foreign segment: %v, %v", r, err)
	}
}

// TestFullRestart replaces the server (new Pool on the same file) between
// OFFER and REQUEST and after ACKs: no lease is lost, no address doubled.
func TestFullRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	newPool := func() *Pool {
		return &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.199"), Store: &FileStore{Path: path}}
	}
	s, _ := newFullServer(t, newPool())
	acks := map[string]string{}
	for i := range 20 {
		acks[mac(i).String()] = dora(t, s, mac(i), false).YourIPAddr.String()
	}
	offer := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(100))), in67)

	s2, _ := newFullServer(t, newPool())
	// The REQUEST for the offer made before the restart still succeeds.
	req := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(100)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
	if r := mustHandle(t, s2, req, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeAck {
		t.Errorf("REQUEST after restart: %v", r)
	}
	for i := range 20 {
		got := dora(t, s2, mac(i), false).YourIPAddr.String()
		if got != acks[mac(i).String()] {
			t.Errorf("%v had %s before the restart, %s after", mac(i), acks[mac(i).String()], got)
		}
	}
	for i := 20; i < 40; i++ {
		dora(t, s2, mac(i), false)
	}
	assertUnique(t, s2.Pool)
	if n := len(s2.Pool.Leases()); n != 41 {
		t.Errorf("%d leases, want 41", n)
	}
}

func TestFileStoreConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	st := &FileStore{Path: path}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			if err := st.Save(context.Background(), Lease{Addr: a, MAC: mac(i), Expiry: time.Unix(1_800_000_000, 0), Hostname: fmt.Sprintf("h\"%d", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := st.Delete(context.Background(), netip.MustParseAddr("10.0.0.0")); err != nil {
		t.Fatal(err)
	}
	got, err := (&FileStore{Path: path}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 199 {
		t.Fatalf("reloaded %d leases, want 199", len(got))
	}
	if got[0].Addr.String() != "10.0.0.1" || got[0].Hostname != "h\"1" || got[0].MAC.String() != mac(1).String() {
		t.Errorf("first lease %+v", got[0])
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".leases.tmp*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestParseLeaseFileErrors(t *testing.T) {
	for _, in := range []string{
		"10.0.0.1 52:54:00:12:34:56 1800000000",
		"10.0.0.1 nomac 1800000000 \"\"",
		"fe80::1%eth0 52:54:00:12:34:56 1800000000 \"\"",
		"10.0.0.1 52:54:00:12:34:56 -5 \"\"",
		"10.0.0.1 52:54:00:12:34:56 1800000000 unquoted",
	} {
		if _, err := ParseLeaseFile([]byte(in)); !errors.Is(err, ErrLeaseFile) {
			t.Errorf("ParseLeaseFile(%q) error = %v, want ErrLeaseFile", in, err)
		}
	}
}

// TestFileStoreJournal checks the journal semantics: later lines win,
// "ADDR -" deletes, a torn last line (a write cut by a crash, never
// acknowledged) is skipped and reported as damage, and Load compacts the
// file.
func TestFileStoreJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	content := "# snapshot\n" +
		"10.0.0.5 02:00:00:00:00:05 1800000000 \"a\"\n" +
		"10.0.0.6 02:00:00:00:00:06 1800000000 \"b\"\n" +
		"10.0.0.5 02:00:00:00:00:07 1800000600 \"c\"\n" + // replaces .5
		"10.0.0.6 -\n" + // deletes .6
		"10.0.0.8 02:00:00:00:00:08 18000" // torn
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &FileStore{Path: path}
	got, err := st.Load(context.Background())
	if d, ok := errors.AsType[*LeaseFileDamage](err); !ok || d.Offset != int64(strings.LastIndexByte(content, '\n')+1) {
		t.Fatalf("Load: %v, want the torn last line reported as damage", err)
	}
	if len(got) != 1 || got[0].Addr.String() != "10.0.0.5" || got[0].MAC.String() != "02:00:00:00:00:07" || got[0].Hostname != "c" {
		t.Fatalf("Load = %+v, want only 10.0.0.5 → 02:00:00:00:00:07 \"c\"", got)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "\n") != 2 {
		t.Errorf("after Load the file is not compacted:\n%s", b)
	}
	if err := st.Save(context.Background(), Lease{Addr: netip.MustParseAddr("10.0.0.9"), MAC: mac(9), Expiry: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(context.Background(), netip.MustParseAddr("10.0.0.5")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got, err = (&FileStore{Path: path}).Load(context.Background())
	if err != nil || len(got) != 1 || got[0].Addr.String() != "10.0.0.9" {
		t.Errorf("after Save and Delete, reloaded %+v, %v", got, err)
	}
}

// TestDeciderPanic checks that a panicking Decider costs one request, not
// the server.
func TestDeciderPanic(t *testing.T) {
	s := &Server{Decider: DeciderFunc(func(context.Context, *dhcpv4.DHCPv4) (Boot, error) { panic("boom") })}
	out := &sink{}
	sc := &serverConn{conn: out, localPort: ServerPort}
	b, _ := AppendMessage(nil, pxeRequest(t, dhcpv4.MessageTypeDiscover), 0)
	s.serveDatagram(t.Context(), sc, b, in67, nil, newPktinfo())
	if st := s.Stats(); st.Errors != 1 || len(out.wrote) != 0 {
		t.Errorf("after a Decider panic: stats %+v, %d replies; want 1 error, no reply", st, len(out.wrote))
	}
}

// TestHostileDatagrams sends malformed datagrams through the request path:
// each is dropped, counted, and answered with nothing.
func TestHostileDatagrams(t *testing.T) {
	good, _ := AppendMessage(nil, pxeRequest(t, dhcpv4.MessageTypeDiscover), 0)
	bad := [][]byte{
		nil,
		good[:239],                       // truncated header
		append(good[:240:240], 53, 1),    // option cut short
		append(good[:240:240], 53, 9, 1), // length past the end
		append(good[:240:240], 60, 4, 'P', 'X', 'E', 'C', 255), // no option 53
		make([]byte, MaxRequestSize+100),                       // giant
	}
	s := &Server{Decider: StaticBoot(Boot{File: "x"})}
	out := &sink{}
	sc := &serverConn{conn: out, localPort: ServerPort}
	for _, b := range bad {
		s.serveDatagram(t.Context(), sc, b, in67, nil, newPktinfo())
	}
	if st := s.Stats(); st.Malformed != uint64(len(bad)) || st.Replied != 0 || len(out.wrote) != 0 {
		t.Errorf("stats %+v, %d replies; want %d malformed and no reply", st, len(out.wrote), len(bad))
	}
	s.serveDatagram(t.Context(), sc, good, in67, nil, newPktinfo())
	if st := s.Stats(); st.Replied != 1 || len(out.wrote) != 1 {
		t.Errorf("after a good DISCOVER: stats %+v, %d replies; want 1", st, len(out.wrote))
	}
}

// TestFullLeasesWithoutBootProgram covers a PXE client whose architecture
// has no boot program (the Decider fails for it): a full DHCP server
// still leases it an address, without boot options, and says so at info
// level once per client.
func TestFullLeasesWithoutBootProgram(t *testing.T) {
	s, _ := newFullServer(t, &Pool{})
	s.Decider = &countingDecider{err: errors.New("nbp: no TFTP boot program for architecture 0")}
	var logs testenv.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for range 2 {
		ack := dora(t, s, mac(1), true)
		if ack.BootFileName != "" || ack.Options.Has(dhcpv4.OptionBootfileName) || ack.Options.Has(dhcpv4.OptionClassIdentifier) || ack.Options.Has(dhcpv4.OptionVendorSpecificInformation) {
			t.Errorf("ACK for a client without boot program carries boot options: %v", ack)
		}
		if ack.YourIPAddr.String() != "10.0.0.100" {
			t.Errorf("ACK yiaddr %v, want 10.0.0.100", ack.YourIPAddr)
		}
	}
	dora(t, s, mac(2), true)
	const msg = "leasing an address without boot options"
	if n := strings.Count(logs.String(), msg); n != 2 {
		t.Errorf("%d info lines %q for two clients with two exchanges each, want 2 (once per client):\n%s", n, msg, logs.String())
	}
	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "architecture 0") {
		t.Errorf("log lacks the info line with the reason:\n%s", logs.String())
	}
}

// debianDhclientDiscover is the DHCPDISCOVER of a booted Debian Live
// system's ISC dhclient 4.4 (Debian's default dhclient.conf: "send
// host-name = gethostname()" and its "request" list), laid out field by
// field as it leaves the machine: no vendor class, no PXE options.
func debianDhclientDiscover(t *testing.T, hw net.HardwareAddr) *dhcpv4.DHCPv4 {
	t.Helper()
	b := []byte{
		1, 1, 6, 0, // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
		0x3a, 0x1f, 0x77, 0x02, // xid
		0, 3, 0, 0, // secs 3, flags 0 (unicast replies welcome)
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ciaddr, yiaddr, siaddr, giaddr
	}
	b = append(b, hw...)
	b = append(b, make([]byte, 16-len(hw)+64+128)...) // chaddr padding, sname, file
	b = append(b, 99, 130, 83, 99)                    // magic cookie
	b = append(b,
		53, 1, 1, // DHCPDISCOVER
		12, 6, 'd', 'e', 'b', 'i', 'a', 'n', // host name
		// 55: subnet mask, broadcast, time offset, routers, domain name,
		// DNS, domain search, host name, NetBIOS name servers and scope,
		// MTU, classless static routes, NTP servers.
		55, 13, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42,
		255) // end
	b = append(b, make([]byte, 300+4-len(b)%4)...)
	m, err := ParseRequest(b)
	if err != nil {
		t.Fatalf("ParseRequest(dhclient DISCOVER): %v", err)
	}
	return m
}

// TestOSClientAfterBoot covers the booted system's own DHCP client after
// a PXE boot: its DISCOVER (no vendor class, 77 s after power-on) must get
// a plain lease, not PXEClient and the boot file remembered for the MAC
// for syslinux.efi's bare second exchange; that exchange, seconds after
// the firmware's, still gets the boot decision.
func TestOSClientAfterBoot(t *testing.T) {
	s, clk := newFullServer(t, &Pool{})
	s.Decider = StaticBoot(Boot{File: "syslinux.efi", ConfigFile: "pxelinux.cfg/default"})
	hasBoot := func(r *dhcpv4.DHCPv4) bool {
		return r.BootFileName != "" || r.Options.Has(dhcpv4.OptionBootfileName) || r.ClassIdentifier() != "" || r.Options.Has(dhcpv4.OptionPXELinuxConfigFile)
	}
	ack := dora(t, s, mac(1), true) // the firmware, at power-on
	if !hasBoot(ack) {
		t.Fatalf("firmware's ACK without boot options: %v", ack)
	}

	clk.add(4 * time.Second) // syslinux.efi, seconds later
	r := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(1))), in67)
	if r == nil || r.BootFileName != "syslinux.efi" {
		t.Fatalf("syslinux.efi's bare DISCOVER 4 s after the firmware: %v, want the remembered boot", r)
	}
	r = mustHandle(t, s, debianDhclientDiscover(t, mac(1)), in67)
	if r == nil || r.MessageType() != dhcpv4.MessageTypeOffer || r.YourIPAddr.String() != "10.0.0.100" {
		t.Fatalf("dhclient DISCOVER: %v, want an OFFER of the client's address", r)
	}
	if hasBoot(r) {
		t.Errorf("dhclient's DISCOVER, 4 s after the firmware, was answered as a PXE client: %v", r)
	}

	clk.add(73 * time.Second) // 77 s after power-on
	for _, tc := range []struct {
		name string
		req  *dhcpv4.DHCPv4
	}{
		{"dhclient", debianDhclientDiscover(t, mac(1))},
		{"bare request", plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(1)))},
	} {
		r := mustHandle(t, s, tc.req, in67)
		if r == nil || r.YourIPAddr.String() != "10.0.0.100" {
			t.Fatalf("%s 77 s after power-on: %v, want an OFFER of the client's address", tc.name, r)
		}
		if hasBoot(r) {
			t.Errorf("%s 77 s after power-on was answered as a PXE client: %v", tc.name, r)
		}
	}
}

// TestFileStoreIPv6: package dhcp6 keeps its leases in a FileStore: IPv6
// addresses, a client identifier of IAID and DUID, a MAC that may be
// unknown, and conflicts survive a reopening.
func TestFileStoreIPv6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases6")
	exp := time.Unix(1800000000, 0)
	want := []Lease{
		{Addr: netip.MustParseAddr("2001:db8:99::100"), MAC: mac(1), ClientID: []byte{0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, Expiry: exp},
		{Addr: netip.MustParseAddr("2001:db8:99::101"), ClientID: []byte{0, 0, 0, 7, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Expiry: exp},
		{Addr: netip.MustParseAddr("2001:db8:99::102"), Declined: exp},
	}
	s := &FileStore{Path: path}
	for _, l := range want {
		if err := s.Save(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = &FileStore{Path: path}
	defer s.Close()
	got, err := s.Load(t.Context())
	if err != nil || len(got) != len(want) {
		t.Fatalf("Load = %+v, %v; want %d leases", got, err, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Addr != w.Addr || g.MAC.String() != w.MAC.String() || !bytes.Equal(g.ClientID, w.ClientID) || !g.Expiry.Equal(w.Expiry) && w.Declined.IsZero() || !g.Declined.Equal(w.Declined) {
			t.Errorf("lease %d = %+v, want %+v", i, g, w)
		}
	}
}
