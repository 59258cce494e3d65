package dhcp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

// listenIn opens a broadcast UDP socket in ns (see
// [testenv.NetNS.ListenBroadcastUDP]).
func listenIn(t *testing.T, ns *testenv.NetNS, addr, dev string) *net.UDPConn {
	t.Helper()
	return ns.ListenBroadcastUDP(t, addr, dev)
}

// serveIn starts s in ns on addr (port 67, and 4011 for proxyDHCP).
func serveIn(t *testing.T, ns *testenv.NetNS, s *Server, addrs ...string) {
	t.Helper()
	conns := make([]net.PacketConn, len(addrs))
	for i, a := range addrs {
		conns[i] = listenIn(t, ns, a, "")
	}
	testenv.Serve(t, s, ErrServerClosed, conns...)
}

// collect reads DHCP replies with xid on c until d passes.
func collect(t *testing.T, c *net.UDPConn, xid dhcpv4.TransactionID, d time.Duration) []*dhcpv4.DHCPv4 {
	t.Helper()
	var out []*dhcpv4.DHCPv4
	buf := make([]byte, 2048)
	deadline := time.Now().Add(d)
	for {
		c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return out
		}
		m, err := parseMessage(buf[:n], dhcpv4.OpcodeBootReply)
		if err != nil || m.TransactionID != xid {
			continue
		}
		out = append(out, m)
	}
}

func sendTo(t *testing.T, c *net.UDPConn, m *dhcpv4.DHCPv4, to string) {
	t.Helper()
	b, err := AppendMessage(nil, m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDPAddrPort(b, netip.MustParseAddrPort(to)); err != nil {
		t.Fatalf("send to %s: %v", to, err)
	}
}

// TestServerAnswersOnArrivalInterface puts the server in a namespace with
// two segments and checks that each client's broadcast DISCOVER is
// answered on its own segment only, from the server's address there; then
// that Interface restricts the server to one segment.
func TestServerAnswersOnArrivalInterface(t *testing.T) {
	srv := testenv.NewNetNS(t)
	c1, c2 := testenv.NewNetNS(t), testenv.NewNetNS(t)
	_, if1 := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.1.1/24"), c1, netip.MustParsePrefix("10.0.1.2/24"))
	seg2, if2 := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.2.1/24"), c2, netip.MustParsePrefix("10.0.2.2/24"))

	for _, tc := range []struct {
		name   string
		iface  string
		answer [2]bool
	}{
		{"all interfaces", "", [2]bool{true, true}},
		{"bound to segment 2", seg2, [2]bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), Interface: tc.iface}
			if tc.iface != "" {
				// Resolve the index inside the namespace, as ListenAndServe does.
				if err := srv.Do(func() error {
					ifi, err := net.InterfaceByName(tc.iface)
					if err == nil {
						s.bindIndex.Store(int64(ifi.Index))
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			serveIn(t, srv, s, "0.0.0.0:67")
			cl1 := listenIn(t, c1, "0.0.0.0:68", if1)
			cl2 := listenIn(t, c2, "0.0.0.0:68", if2)
			for i, c := range []*net.UDPConn{cl1, cl2} {
				xid := dhcpv4.TransactionID{9, 9, 9, byte(i)}
				req := pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true))
				var mine []*dhcpv4.DHCPv4
				for try := 0; try < 5 && len(mine) == 0; try++ { // the link may take a moment to come up
					sendTo(t, c, req, "255.255.255.255:67")
					mine = collect(t, c, xid, 300*time.Millisecond)
				}
				other := collect(t, []*net.UDPConn{cl2, cl1}[i], xid, 10*time.Millisecond)
				if len(other) != 0 {
					t.Errorf("client %d's OFFER also reached the other segment", i+1)
				}
				if !tc.answer[i] {
					if len(mine) != 0 {
						t.Errorf("client %d answered although the server is bound elsewhere", i+1)
					}
					continue
				}
				if len(mine) != 1 {
					t.Fatalf("client %d got %d replies, want 1", i+1, len(mine))
				}
				want := []string{"10.0.1.1", "10.0.2.1"}[i]
				if got := mine[0].ServerIdentifier().String(); got != want {
					t.Errorf("client %d: server id %s, want %s", i+1, got, want)
				}
				if got := mine[0].ServerIPAddr.String(); got != want {
					t.Errorf("client %d: siaddr %s, want %s", i+1, got, want)
				}
			}
		})
	}
}

// TestProxyBesideDnsmasq runs dnsmasq as the DHCP server that hands out
// addresses and our proxyDHCP on another host of the same segment. A PXE
// client (played by the test, with the broadcast flag as OVMF sets it)
// gets both offers, completes its lease with dnsmasq while the proxy
// stays silent, then asks the proxy on port 4011.
func TestProxyBesideDnsmasq(t *testing.T) {
	dnsmasq := testenv.NeedCommand(t, "dnsmasq")[0]
	cl, prx, dm := testenv.NewNetNS(t), testenv.NewNetNS(t), testenv.NewNetNS(t)
	cp, _ := testenv.Veth(t, cl, netip.MustParsePrefix("10.0.0.250/24"), prx, netip.MustParsePrefix("10.0.0.1/24"))
	cd, _ := testenv.Veth(t, cl, netip.MustParsePrefix("10.0.0.251/24"), dm, netip.MustParsePrefix("10.0.0.2/24"))
	cl.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
	for _, l := range []string{cp, cd} {
		cl.MustRun(t, "ip", "addr", "flush", "dev", l)
		cl.MustRun(t, "ip", "link", "set", l, "master", "br0")
	}
	cl.MustRun(t, "ip", "link", "set", "br0", "up")

	dir := t.TempDir()
	cmd := dm.Command(t.Context(), dnsmasq, "--keep-in-foreground", "--port=0", "--no-ping", "--no-resolv",
		"--dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,1h", "--dhcp-leasefile="+filepath.Join(dir, "dnsmasq.leases"),
		"--pid-file="+filepath.Join(dir, "dnsmasq.pid"), "--log-dhcp", "--log-facility=-", "--user=root")
	testenv.Start(t, cmd, "dnsmasq")

	s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"})}
	serveIn(t, prx, s, "0.0.0.0:67", "0.0.0.0:4011")
	c := listenIn(t, cl, "0.0.0.0:68", "br0")

	xid := dhcpv4.TransactionID{0xa7, 0x8a, 0x11, 0x65}
	var offers []*dhcpv4.DHCPv4
	for try := 0; try < 20 && len(offers) < 2; try++ { // dnsmasq needs a moment to start
		sendTo(t, c, pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true)), "255.255.255.255:67")
		offers = collect(t, c, xid, 500*time.Millisecond)
	}
	var lease, proxy *dhcpv4.DHCPv4
	for _, o := range offers {
		if o.ServerIdentifier().Equal(net.IPv4(10, 0, 0, 1)) {
			proxy = o
		} else {
			lease = o
		}
	}
	if lease == nil || proxy == nil {
		t.Fatalf("offers %v: want one from dnsmasq and one from the proxy", offers)
	}
	if !proxy.YourIPAddr.IsUnspecified() || proxy.ClassIdentifier() != "PXEClient" || proxy.BootFileName != "ipxe.efi" || !proxy.IsBroadcast() {
		t.Errorf("proxy offer: %v", proxy.Summary())
	}
	if lease.YourIPAddr.IsUnspecified() {
		t.Fatalf("dnsmasq offer without address: %v", lease.Summary())
	}
	// REQUEST to dnsmasq: ACK from dnsmasq, silence from the proxy.
	before := s.Stats()
	req := pxeRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(lease.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(lease.YourIPAddr)))
	sendTo(t, c, req, "255.255.255.255:67")
	acks := collect(t, c, xid, 700*time.Millisecond)
	if len(acks) != 1 || acks[0].MessageType() != dhcpv4.MessageTypeAck || !acks[0].ServerIdentifier().Equal(net.IPv4(10, 0, 0, 2)) {
		for _, a := range acks {
			t.Logf("reply: %s", a.Summary())
		}
		t.Fatalf("REQUEST to dnsmasq: %d replies, want dnsmasq's ACK only", len(acks))
	}
	// The client takes its address and asks the proxy on port 4011.
	ip := lease.YourIPAddr.String()
	cl.MustRun(t, "ip", "addr", "add", ip+"/24", "dev", "br0")
	c4011 := listenIn(t, cl, ip+":68", "")
	req = pxeRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithTransactionID(xid), dhcpv4.WithClientIP(lease.YourIPAddr))
	sendTo(t, c4011, req, "10.0.0.1:4011")
	got := collect(t, c4011, xid, 700*time.Millisecond)
	if len(got) != 1 || got[0].MessageType() != dhcpv4.MessageTypeAck || got[0].BootFileName != "ipxe.efi" {
		t.Fatalf("REQUEST on 4011: %v, want ACK with ipxe.efi", got)
	}
	if st := s.Stats(); st.Replied-before.Replied != 1 || st.Ignored-before.Ignored != 1 {
		t.Errorf("proxy stats %+v, before the REQUEST %+v: want one reply (the 4011 ACK) and the REQUEST for dnsmasq ignored", st, before)
	}
}

// TestUdhcpc runs busybox udhcpc against the full DHCP server: a lease is
// obtained, renewed (SIGUSR1) and released on exit (-R).
func TestUdhcpc(t *testing.T) {
	busybox := testenv.NeedCommand(t, "busybox")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	_, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.0.1/24"), cl, netip.MustParsePrefix("10.0.0.2/24"))
	cl.MustRun(t, "ip", "addr", "flush", "dev", ifc)

	dir := t.TempDir()
	pool := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.110"),
		Routers: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, LeaseTime: time.Hour,
		Store: &FileStore{Path: filepath.Join(dir, "leases")}}
	s := &Server{Pool: pool}
	serveIn(t, srv, s, "0.0.0.0:67")

	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte(`#!/bin/sh
echo "$1 ip=$ip mask=$mask router=$router lease=$lease serverid=$serverid" >> `+logf+`
case "$1" in
bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
deconfig) ip addr flush dev "$interface" ;;
esac
`), 0o755)
	cmd := cl.Command(t.Context(), busybox, "udhcpc", "-i", ifc, "-f", "-R", "-s", script, "-t", "10", "-T", "1", "-A", "1")
	testenv.Start(t, cmd, "udhcpc")
	waitFor := func(what string) string {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			b, _ := os.ReadFile(logf)
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, what+" ") {
					return l
				}
			}
		}
		t.Fatalf("udhcpc: no %q event", what)
		return ""
	}
	bound := waitFor("bound")
	if !strings.Contains(bound, "ip=10.0.0.100 ") || !strings.Contains(bound, "router=10.0.0.1") || !strings.Contains(bound, "lease=3600") || !strings.Contains(bound, "serverid=10.0.0.1") {
		t.Errorf("bound event: %s", bound)
	}
	if l := pool.Leases(); len(l) != 1 || l[0].Addr.String() != "10.0.0.100" {
		t.Fatalf("leases after bound: %v", l)
	}
	before := pool.Leases()[0].Expiry
	time.Sleep(1100 * time.Millisecond) // expiry has one-second resolution in the file
	cmd.Process.Signal(syscall.SIGUSR1)
	waitFor("renew")
	if l := pool.Leases(); len(l) != 1 || !l[0].Expiry.After(before) {
		t.Errorf("lease not extended by the renewal: %v (was %v)", l, before)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); len(pool.Leases()) != 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if l := pool.Leases(); len(l) != 0 {
		t.Errorf("leases after udhcpc -R exit: %v, want none (released)", l)
	}
	stored, err := (&FileStore{Path: filepath.Join(dir, "leases")}).Load(context.Background())
	if err != nil || len(stored) != 0 {
		t.Errorf("lease file after release: %v, %v", stored, err)
	}
}

// TestPerfdhcp loads the full DHCP server, with its lease file, with Kea's
// perfdhcp acting as a relay for 300 distinct clients and its address
// uniqueness check on: every exchange must complete with a unique address,
// and every ACKed lease must be in the file.
func TestPerfdhcp(t *testing.T) {
	perfdhcp := testenv.NeedCommand(t, "perfdhcp")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	testenv.Veth(t, srv, netip.MustParsePrefix("10.9.0.1/16"), cl, netip.MustParsePrefix("10.9.0.2/16"))
	path := filepath.Join(t.TempDir(), "leases")
	pool := &Pool{First: netip.MustParseAddr("10.9.1.1"), Last: netip.MustParseAddr("10.9.4.254"),
		Subnet: netip.MustParsePrefix("10.9.0.0/16"), Store: &FileStore{Path: path}}
	s := &Server{Pool: pool}
	serveIn(t, srv, s, "0.0.0.0:67")

	// perfdhcp exits 3 when some packets were dropped; the ratio is
	// checked below instead.
	out, _ := cl.Command(t.Context(), perfdhcp, "-4", "-l", "10.9.0.2", "-r", "100", "-n", "300", "-R", "300", "-u", "10.9.0.1").CombinedOutput()
	text := string(out)
	var sent, recv []int
	for _, l := range strings.Split(text, "\n") {
		if f, ok := strings.CutPrefix(l, "sent packets: "); ok {
			n, _ := strconv.Atoi(f)
			sent = append(sent, n)
		}
		if f, ok := strings.CutPrefix(l, "received packets: "); ok {
			n, _ := strconv.Atoi(f)
			recv = append(recv, n)
		}
	}
	if len(sent) != 2 || len(recv) != 2 {
		t.Fatalf("perfdhcp output without DO and RA statistics:\n%s", text)
	}
	if sent[0] < 300 || recv[1] < sent[0]*90/100 {
		t.Errorf("perfdhcp: %d DISCOVERs sent, %d ACKs received; want 300 and at least 90%%:\n%s", sent[0], recv[1], text)
	}
	if strings.Contains(text, "non unique addresses: ") && !strings.Contains(text, "non unique addresses: 0") {
		t.Errorf("perfdhcp saw an address handed out twice:\n%s", text)
	}
	acks := s.Stats().Replied
	stored, err := (&FileStore{Path: path}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every ACK perfdhcp received was sent after its lease was stored.
	if len(stored) < recv[1] {
		t.Errorf("lease file holds %d leases; perfdhcp received %d ACKs", len(stored), recv[1])
	}
	t.Logf("perfdhcp: sent %v, received %v; server replied %d; %d leases stored", sent, recv, acks, len(stored))
}

// TestListenAndServeProxy runs ListenAndServe(":67") as proxyDHCP bound to
// one interface inside a namespace: it must also answer on port 4011, and
// Shutdown must make it return ErrServerClosed.
func TestListenAndServeProxy(t *testing.T) {
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	ifs, _ := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.3.1/24"), cl, netip.MustParsePrefix("10.0.3.2/24"))
	s := &Server{Decider: StaticBoot(Boot{File: "snp.efi"}), Interface: ifs}
	errc := make(chan error, 1)
	go func() { errc <- srv.Do(func() error { return s.ListenAndServe(":67") }) }()

	c := listenIn(t, cl, "10.0.3.2:68", "")
	xid := dhcpv4.TransactionID{4, 0, 1, 1}
	req := pxeRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithTransactionID(xid), dhcpv4.WithClientIP(net.IPv4(10, 0, 3, 2)))
	var got []*dhcpv4.DHCPv4
	for try := 0; try < 10 && len(got) == 0; try++ { // until the server listens
		sendTo(t, c, req, "10.0.3.1:4011")
		got = collect(t, c, xid, 300*time.Millisecond)
	}
	// A slow machine may answer the earlier tries too, inside a later window:
	// one ACK per REQUEST sent is right, and each must be correct.
	if len(got) == 0 {
		t.Fatal("REQUEST to port 4011: no answer, want an ACK with snp.efi from 10.0.3.1")
	}
	for _, m := range got {
		if m.MessageType() != dhcpv4.MessageTypeAck || m.BootFileName != "snp.efi" || m.ServerIdentifier().String() != "10.0.3.1" {
			t.Fatalf("REQUEST to port 4011: %v, want an ACK with snp.efi from 10.0.3.1", m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("ListenAndServe = %v, want ErrServerClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after Shutdown")
	}
}

// TestDiscoverFloodThenUdhcpc floods a full DHCP server whose pool is a
// /24 with 400 DISCOVERs from 400 random MACs that never REQUEST (Kea's
// perfdhcp -i, as a relay), then runs busybox udhcpc on the same segment:
// it must get a lease, because, with the whole pool on offer to the flood
// (held a minute here, longer than the test), the oldest offer goes to the
// next client.
//
// The flood is judged on the server's side: every DISCOVER perfdhcp sent
// answered, and no address left free. perfdhcp's own count of OFFERs
// received is no measure of the server: it stops listening when it has
// sent its last DISCOVER (its exit wait is 0) and counts a reply only
// within its drop time, so on a loaded machine it counted 0 of 400 while
// the server was still working through the burst. The server's socket is
// the one [Listen] opens, with the receive buffer it has in production,
// which holds the whole burst.
func TestDiscoverFloodThenUdhcpc(t *testing.T) {
	perfdhcp := testenv.NeedCommand(t, "perfdhcp")[0]
	busybox := testenv.NeedCommand(t, "busybox")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	_, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.0.1/24"), cl, netip.MustParsePrefix("10.0.0.2/24"))
	pool := &Pool{First: netip.MustParseAddr("10.0.0.3"), Last: netip.MustParseAddr("10.0.0.254"), LeaseTime: time.Hour, OfferHold: time.Minute}
	s := &Server{Pool: pool}
	var conn net.PacketConn
	if err := srv.Do(func() (err error) {
		conn, err = Listen("", "0.0.0.0:67")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, s, ErrServerClosed, conn)

	out, _ := cl.Command(t.Context(), perfdhcp, "-4", "-i", "-l", "10.0.0.2", "-r", "500", "-n", "400", "-R", "400", "10.0.0.1").CombinedOutput()
	var sent, recv int
	for _, l := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(l, "sent packets: "); ok && sent == 0 {
			sent, _ = strconv.Atoi(f)
		}
		if f, ok := strings.CutPrefix(l, "received packets: "); ok && recv == 0 {
			recv, _ = strconv.Atoi(f)
		}
	}
	if sent < 400 {
		t.Fatalf("perfdhcp sent %d DISCOVERs, want 400:\n%s", sent, out)
	}
	// The server answers every DISCOVER it read; wait until it has read
	// the burst (bounded, for a server that stopped answering).
	for deadline := time.Now().Add(time.Minute); s.Stats().Replied < uint64(sent) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.Replied < uint64(sent) {
		t.Fatalf("flood: the server answered %d of %d DISCOVERs (stats %+v)", st.Replied, sent, st)
	}
	if free := freeAddrs(pool); free != 0 {
		t.Fatalf("flood: %d addresses of the pool not on offer, want none (the premise of the test)", free)
	}
	if n := len(pool.Leases()); n != 0 {
		t.Fatalf("%d leases after a DISCOVER-only flood", n)
	}

	cl.MustRun(t, "ip", "addr", "flush", "dev", ifc)
	dir := t.TempDir()
	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 ip=$ip\" >> "+logf+"\n"), 0o755)
	start := time.Now()
	cmd := cl.Command(t.Context(), busybox, "udhcpc", "-i", ifc, "-f", "-q", "-n", "-s", script, "-t", "5", "-T", "1", "-A", "1")
	b, err := cmd.CombinedOutput()
	ev, _ := os.ReadFile(logf)
	if err != nil || !strings.Contains(string(ev), "bound ip=10.0.0.") {
		t.Fatalf("udhcpc after the flood got no lease (%v):\n%s\nevents:\n%s", err, b, ev)
	}
	if l := pool.Leases(); len(l) != 1 {
		t.Errorf("leases after udhcpc: %v, want its one", l)
	}
	t.Logf("flood: %d DISCOVERs, %d OFFERs seen by perfdhcp; udhcpc bound after %v: %s", sent, recv, time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(ev)))
}

// freeAddrs counts the addresses of p's range that are neither leased nor
// on offer now.
func freeAddrs(p *Pool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := 0
	for a := p.First; a.IsValid() && !p.Last.Less(a); a = a.Next() {
		if p.byAddr[a].free(now) {
			n++
		}
	}
	return n
}
