package dhcp

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// relayNet is a routed network with a DHCP relay agent: the server's
// namespace (10.50.0.1/24) reaches a router namespace (10.50.0.2) that
// forwards between it and two client segments, bridges holding
// 10.51.0.1/24 and 10.52.0.1/24, and runs the relay agent, one of:
//
//   - "dhcrelay": ISC dhcrelay with -a -D: it adds option 82 (circuit ID
//     the bridge's name) and drops every reply that does not echo it back.
//     It reads the segments with packet sockets, so it also relays a
//     client's unicast RENEW to the server (which the router forwards as
//     well).
//   - "dnsmasq": dnsmasq --dhcp-relay, on an ordinary UDP socket: it
//     relays broadcasts only, as a router's "ip helper-address" does, and
//     a unicast RENEW reaches the server only as the router forwards it,
//     with giaddr 0 and the client's ciaddr.
type relayNet struct {
	srv, router *testenv.NetNS
	bridges     [2]string
}

func newRelayNet(t *testing.T, agent string) *relayNet {
	t.Helper()
	n := &relayNet{srv: testenv.NewNetNS(t), router: testenv.NewNetNS(t), bridges: [2]string{"br51", "br52"}}
	_, up := testenv.Veth(t, n.srv, netip.MustParsePrefix("10.50.0.1/24"), n.router, netip.MustParsePrefix("10.50.0.2/24"))
	for i, br := range n.bridges {
		n.router.MustRun(t, "ip", "link", "add", br, "type", "bridge")
		n.router.MustRun(t, "ip", "addr", "add", []string{"10.51.0.1/24", "10.52.0.1/24"}[i], "dev", br)
		n.router.MustRun(t, "ip", "link", "set", br, "up")
		n.srv.MustRun(t, "ip", "route", "add", []string{"10.51.0.0/24", "10.52.0.0/24"}[i], "via", "10.50.0.2")
	}
	n.router.MustRun(t, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
	dir := t.TempDir()
	switch agent {
	case "dhcrelay":
		dhcrelay := testenv.NeedCommand(t, "dhcrelay")[0]
		cmd := n.router.Command(t.Context(), dhcrelay, "-4", "-d", "-a", "-D", "-pf", filepath.Join(dir, "dhcrelay.pid"),
			"-iu", up, "-id", n.bridges[0], "-id", n.bridges[1], "10.50.0.1")
		testenv.Start(t, cmd, "dhcrelay")
	case "dnsmasq":
		dnsmasq := testenv.NeedCommand(t, "dnsmasq")[0]
		cmd := n.router.Command(t.Context(), dnsmasq, "--keep-in-foreground", "--port=0", "--no-resolv", "--no-hosts",
			"--conf-file=/dev/null", "--dhcp-relay=10.51.0.1,10.50.0.1", "--dhcp-relay=10.52.0.1,10.50.0.1",
			"--pid-file="+filepath.Join(dir, "dnsmasq.pid"), "--dhcp-leasefile="+filepath.Join(dir, "dnsmasq.leases"),
			"--log-dhcp", "--log-facility=-", "--user=root")
		testenv.Start(t, cmd, "dnsmasq")
	default:
		t.Fatalf("unknown relay agent %q", agent)
	}
	return n
}

// client adds a client namespace to segment seg (0 or 1): a veth whose
// router end is a port of the segment's bridge. It returns the namespace
// and the client's interface, without an address.
func (n *relayNet) client(t *testing.T, seg int) (*testenv.NetNS, string) {
	t.Helper()
	ns := testenv.NewNetNS(t)
	// Veth wants addresses; the ends are flushed at once (a bridge port
	// and a client that has no address yet).
	port, ifc := testenv.Veth(t, n.router, netip.MustParsePrefix("192.0.2.1/32"), ns, netip.MustParsePrefix("192.0.2.2/32"))
	n.router.MustRun(t, "ip", "addr", "flush", "dev", port)
	n.router.MustRun(t, "ip", "link", "set", port, "master", n.bridges[seg])
	ns.MustRun(t, "ip", "addr", "flush", "dev", ifc)
	return ns, ifc
}

// TestRealClientsThroughRelay serves two relayed subnets from one
// server (two Pools, one lease file) behind a relay agent nobody on the
// team wrote (see [relayNet]: ISC dhcrelay, dnsmasq), with busybox
// udhcpc, ISC dhclient and dhcpcd on each segment. Every client must get an address of
// its own subnet with that subnet's router and DNS server, no address may
// go to two clients, and the replies must echo dhcrelay's option 82
// (dhcrelay -D drops them otherwise). With a 4 s lease each client then
// renews: the RENEW at T1 is unicast to the server through the router
// (RFC 2131 §4.4.5), and must be ACKed as a RENEW, before the client
// falls back to a broadcast REBIND at T2.
func TestRealClientsThroughRelay(t *testing.T) {
	for _, agent := range []string{"dhcrelay", "dnsmasq"} {
		t.Run(agent, func(t *testing.T) { testRealClientsThroughRelay(t, agent) })
	}
}

func testRealClientsThroughRelay(t *testing.T, agent string) {
	n := newRelayNet(t, agent)
	store := &FileStore{Path: filepath.Join(t.TempDir(), "leases")}
	pools := []*Pool{
		{First: netip.MustParseAddr("10.51.0.100"), Last: netip.MustParseAddr("10.51.0.120"), Subnet: netip.MustParsePrefix("10.51.0.0/24"),
			Routers: []netip.Addr{netip.MustParseAddr("10.51.0.1")}, DNS: []netip.Addr{netip.MustParseAddr("10.51.0.53")},
			LeaseTime: 4 * time.Second, Store: store},
		// Subnet left zero: the /24 around First, as no interface of the
		// server holds it.
		{First: netip.MustParseAddr("10.52.0.100"), Last: netip.MustParseAddr("10.52.0.120"),
			Routers: []netip.Addr{netip.MustParseAddr("10.52.0.1")}, DNS: []netip.Addr{netip.MustParseAddr("10.52.0.53")},
			LeaseTime: 4 * time.Second, Store: store},
	}
	s := &Server{Pools: pools}
	serveIn(t, n.srv, s, "0.0.0.0:67")

	var clients []*realClient
	for seg := range 2 {
		ns, ifc := n.client(t, seg)
		clients = append(clients, startUdhcpc(t, ns, ifc))
		ns, ifc = n.client(t, seg)
		clients = append(clients, startDhclient(t, ns, ifc))
	}
	// dhcpcd too (without its ARP probe, for speed), where installed.
	var dhcpcds []*dhcpcdRunner
	if _, err := testenv.LookPath("dhcpcd"); err == nil || testenv.InCI() {
		for seg := range 2 {
			ns, ifc := n.client(t, seg)
			d := newDhcpcd(t, ns, ifc, "noarp\n")
			d.start()
			dhcpcds = append(dhcpcds, d)
		}
	}
	owner := map[netip.Addr]string{}
	bounds := make([]int, len(clients))
	for i, c := range clients {
		seg := i / 2
		line, at := c.wait(0, 30*time.Second, "bound", "BOUND")
		bounds[i] = at
		t.Logf("%s on segment %d: %s", c.name, seg+1, line)
		a := addr(line)
		subnet := []string{"10.51.0.0/24", "10.52.0.0/24"}[seg]
		if !netip.MustParsePrefix(subnet).Contains(a) {
			t.Errorf("%s on segment %d got %v, want an address of %s", c.name, seg+1, a, subnet)
		}
		if o, dup := owner[a]; dup {
			t.Errorf("%v given to %s and to %s on segment %d", a, o, c.name, seg+1)
		}
		owner[a] = c.name + " on segment " + string(rune('1'+seg))
		wantR, wantD := []string{"10.51.0.1", "10.52.0.1"}[seg], []string{"10.51.0.53", "10.52.0.53"}[seg]
		if field(line, "routers") != wantR || field(line, "dns") != wantD || field(line, "serverid") != "10.50.0.1" || field(line, "lease") != "4" {
			t.Errorf("%s on segment %d: %q, want routers=%s dns=%s serverid=10.50.0.1 lease=4", c.name, seg+1, line, wantR, wantD)
		}
		mask := map[string]string{"udhcpc": "24", "dhclient": "255.255.255.0"}[c.name]
		if field(line, "mask") != mask {
			t.Errorf("%s on segment %d: mask %q, want %s", c.name, seg+1, field(line, "mask"), mask)
		}
	}
	dhcpcdBound := make([]string, len(dhcpcds))
	for seg, d := range dhcpcds {
		line := d.wait("BOUND", 30*time.Second)
		dhcpcdBound[seg] = line
		t.Logf("dhcpcd on segment %d: %s", seg+1, line)
		a := addr(line)
		subnet := []string{"10.51.0.0/24", "10.52.0.0/24"}[seg]
		if !netip.MustParsePrefix(subnet).Contains(a) {
			t.Errorf("dhcpcd on segment %d got %v, want an address of %s", seg+1, a, subnet)
		}
		if o, dup := owner[a]; dup {
			t.Errorf("%v given to %s and to dhcpcd on segment %d", a, o, seg+1)
		}
		owner[a] = "dhcpcd on segment " + string(rune('1'+seg))
		wantR, wantD := []string{"10.51.0.1", "10.52.0.1"}[seg], []string{"10.51.0.53", "10.52.0.53"}[seg]
		if field(line, "routers") != wantR || field(line, "dns") != wantD {
			t.Errorf("dhcpcd on segment %d: %q, want routers=%s dns=%s", seg+1, line, wantR, wantD)
		}
	}
	if t.Failed() {
		return
	}
	// Renewals: dhclient's RENEW must be answered as such (unicast through
	// the router); udhcpc's renew event covers its RENEW or REBIND.
	for i, c := range clients {
		reasons := map[string][]string{"udhcpc": {"renew"}, "dhclient": {"RENEW", "REBIND"}}[c.name]
		line, _ := c.wait(bounds[i]+1, 20*time.Second, reasons...)
		if !strings.HasPrefix(line, "renew ") && !strings.HasPrefix(line, "RENEW ") {
			t.Errorf("%s on segment %d: first renewal %q, want a RENEW answered by the server (it was only answered relayed, as a REBIND)", c.name, i/2+1, line)
		}
		if a := addr(line); a != addr(c.lines()[bounds[i]]) {
			t.Errorf("%s on segment %d renewed %v, had %v", c.name, i/2+1, a, addr(c.lines()[bounds[i]]))
		}
	}
	// dhcpcd's RENEW, unicast through the router as well.
	for seg, d := range dhcpcds {
		if line := d.wait("RENEW", 30*time.Second); field(line, "ip") != field(dhcpcdBound[seg], "ip") {
			t.Errorf("dhcpcd on segment %d renewed %q", seg+1, line)
		}
	}
	// Each client holds one lease, of its own pool; the lease file agrees.
	held := map[netip.Addr]bool{}
	for i, p := range pools {
		for _, l := range p.Leases() {
			held[l.Addr] = true
			if !strings.HasPrefix(l.Addr.String(), []string{"10.51.", "10.52."}[i]) {
				t.Errorf("pool %d holds %v", i+1, l)
			}
		}
	}
	if len(held) != len(owner) {
		t.Errorf("pools hold %v, want the %d clients' addresses %v", held, len(owner), owner)
	}
	for a := range owner {
		if !held[a] {
			t.Errorf("no lease for %v (%s)", a, owner[a])
		}
	}
	stored, err := store.Load(t.Context())
	if err != nil || len(stored) != len(owner) {
		t.Errorf("lease file: %v, %v; want %d leases", stored, err, len(owner))
	}
}
