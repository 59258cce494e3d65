package dhcp

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

// TestPoolsByGiaddr checks that a server with several pools serves each
// request from the pool of its segment: giaddr for a relayed request, the
// server's address on the arrival interface otherwise, and stays silent
// to a segment without a pool.
func TestPoolsByGiaddr(t *testing.T) {
	local, _ := newFullServer(t, &Pool{})
	relayed := &Pool{First: netip.MustParseAddr("10.20.1.1"), Last: netip.MustParseAddr("10.20.1.9"), Subnet: netip.MustParsePrefix("10.20.0.0/16"),
		Routers: []netip.Addr{netip.MustParseAddr("10.20.0.1")}}
	relayed.now = local.Pool.now
	if err := relayed.init(t.Context()); err != nil {
		t.Fatal(err)
	}
	local.Pools = []*Pool{relayed}

	if a := dora(t, local, mac(1), false); a.YourIPAddr.String() != "10.0.0.100" {
		t.Errorf("direct client got %v, want 10.0.0.100 of the local pool", a.YourIPAddr)
	}
	viaRelay := func(gi string) *dhcpv4.DHCPv4 {
		return plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(2)), dhcpv4.WithGatewayIP(net.ParseIP(gi)))
	}
	r := mustHandle(t, local, viaRelay("10.20.0.1"), in67)
	if r == nil || r.YourIPAddr.String() != "10.20.1.1" {
		t.Fatalf("relayed from 10.20.0.1: %v, want an offer of 10.20.1.1", r)
	}
	if got := net.IP(r.Options.Get(dhcpv4.OptionSubnetMask)).String(); got != "255.255.0.0" || net.IP(r.Options.Get(dhcpv4.OptionRouter)).String() != "10.20.0.1" {
		t.Errorf("relayed offer: mask %s router %v, want the relayed pool's", got, r.Options.Get(dhcpv4.OptionRouter))
	}
	if r := mustHandle(t, local, viaRelay("10.30.0.1"), in67); r != nil {
		t.Errorf("relayed from a subnet without a pool: %v, want silence", r)
	}
	// Link selection: option 118 (RFC 3011), option 82 sub-option 5 (RFC
	// 3527), from a relay whose giaddr is in no pool's subnet.
	ri, _ := RelayAgentInfo{{Code: 1, Data: []byte("eth0/7")}, {Code: RelayLinkSelection, Data: []byte{10, 20, 5, 5}}}.MarshalBinary()
	for _, tc := range []struct {
		name string
		mod  dhcpv4.Modifier
	}{
		{"option 118", dhcpv4.WithGeneric(dhcpv4.OptionSubnetSelection, []byte{10, 20, 0, 0})},
		{"option 82.5", dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, ri)},
	} {
		req := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(3)), dhcpv4.WithGatewayIP(net.ParseIP("10.30.0.1")), tc.mod)
		if r := mustHandle(t, local, req, in67); r == nil || !strings.HasPrefix(r.YourIPAddr.String(), "10.20.1.") {
			t.Errorf("%s selecting 10.20.0.0/16 through relay 10.30.0.1: %v, want an offer of the relayed pool", tc.name, r)
		}
	}
	// A client on the segment cannot choose another subnet with 118.
	direct := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(4)), dhcpv4.WithGeneric(dhcpv4.OptionSubnetSelection, []byte{10, 20, 0, 0}))
	if r := mustHandle(t, local, direct, in67); r == nil || !strings.HasPrefix(r.YourIPAddr.String(), "10.0.0.") {
		t.Errorf("direct client with option 118: %v, want an offer of its own segment's pool", r)
	}

	// INIT-REBOOT with another subnet's address through the relay: NAK.
	req := plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(mac(2)), dhcpv4.WithGatewayIP(net.ParseIP("10.20.0.1")),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP("10.0.0.100"))))
	if r := mustHandle(t, local, req, in67); r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("REQUEST for another subnet's address: %v, want NAK", r)
	}
}

// TestPoolsThroughRelay serves two subnets from one server: the segment
// it sits on (subnet from the interface) for busybox udhcpc, and a
// relayed /16 for Kea's perfdhcp acting as the relay (giaddr 10.20.0.2).
// Every client gets an address of its own subnet, each once.
func TestPoolsThroughRelay(t *testing.T) {
	perfdhcp, busybox := testenv.NeedCommand(t, "perfdhcp")[0], testenv.NeedCommand(t, "busybox")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	sif, cif := testenv.Veth(t, srv, netip.MustParsePrefix("10.9.0.1/16"), cl, netip.MustParsePrefix("10.9.0.2/16"))
	cl.MustRun(t, "ip", "addr", "add", "10.20.0.2/16", "dev", cif)
	srv.MustRun(t, "ip", "route", "add", "10.20.0.0/16", "via", "10.9.0.2", "dev", sif)

	path := filepath.Join(t.TempDir(), "leases")
	store := &FileStore{Path: path}
	direct := &Pool{First: netip.MustParseAddr("10.9.1.1"), Last: netip.MustParseAddr("10.9.1.254"), Store: store}
	relayed := &Pool{First: netip.MustParseAddr("10.20.1.1"), Last: netip.MustParseAddr("10.20.4.254"),
		Subnet: netip.MustParsePrefix("10.20.0.0/16"), Routers: []netip.Addr{netip.MustParseAddr("10.20.0.2")}, Store: store}
	s := &Server{Pools: []*Pool{direct, relayed}}
	errc := serveInNS(t, srv, s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-errc
	})

	out, _ := cl.Command(t.Context(), perfdhcp, "-4", "-l", "10.20.0.2", "-r", "100", "-n", "200", "-R", "200", "-u", "10.9.0.1").CombinedOutput()
	if !strings.Contains(string(out), "non unique addresses: 0") && strings.Contains(string(out), "non unique addresses") {
		t.Errorf("perfdhcp saw an address twice:\n%s", out)
	}

	// udhcpc on the segment itself, without its address (a fresh client).
	cl2 := testenv.NewNetNS(t)
	_, c2if := testenv.Veth(t, srv, netip.MustParsePrefix("10.9.0.1/16"), cl2, netip.MustParsePrefix("10.9.0.3/16"))
	cl2.MustRun(t, "ip", "addr", "flush", "dev", c2if)
	dir := t.TempDir()
	logf, script := filepath.Join(dir, "events"), filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 ip=$ip mask=$mask\" >> "+logf+"\n"), 0o755)
	if out, err := cl2.Command(t.Context(), busybox, "udhcpc", "-i", c2if, "-f", "-q", "-n", "-s", script, "-t", "5", "-T", "1", "-A", "1").CombinedOutput(); err != nil {
		t.Fatalf("udhcpc: %v\n%s", err, out)
	}
	ev, _ := os.ReadFile(logf)
	if !strings.Contains(string(ev), "bound ip=10.9.1.") || !strings.Contains(string(ev), "mask=16") {
		t.Errorf("udhcpc on the segment: %s, want a 10.9.1.x/16 lease", ev)
	}

	nd, nr := len(direct.Leases()), len(relayed.Leases())
	for _, l := range relayed.Leases() {
		if !netip.MustParsePrefix("10.20.0.0/16").Contains(l.Addr) {
			t.Errorf("relayed pool holds %v", l)
		}
	}
	// perfdhcp stops listening soon after its last DISCOVER, so on a busy
	// machine it sees fewer replies than the server sent: the pool must
	// hold every lease perfdhcp saw ACKed, and those must be most.
	var acks []int
	for _, l := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(l), "received packets: "); ok {
			n, _ := strconv.Atoi(f)
			acks = append(acks, n)
		}
	}
	if len(acks) != 2 || acks[1] < 100 || nr < acks[1] || nd != 1 {
		t.Errorf("leases: %d relayed (want at least the ACKs perfdhcp received, %v, and 100), %d direct (want udhcpc's one)\nperfdhcp:\n%s", nr, acks, nd, out)
	}
	seen := map[string]netip.Addr{}
	for _, l := range append(direct.Leases(), relayed.Leases()...) {
		if a, dup := seen[string(l.MAC)+string(l.ClientID)]; dup {
			t.Errorf("client %v holds %v and %v", l.MAC, a, l.Addr)
		}
		seen[string(l.MAC)+string(l.ClientID)] = l.Addr
	}
}
