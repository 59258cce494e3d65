package dhcp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// dhcpcdRunner runs dhcpcd in a client namespace with state of its own:
// dhcpcd has its run and database directories (/run/dhcpcd,
// /var/lib/dhcpcd) compiled in, so each command runs in the mount
// namespace that "ip netns exec" makes, with the test's directories bound
// over /run and /var/lib/dhcpcd; the host's dhcpcd state is never read or
// written. Its configuration is the test's (-f), and its hook script is
// the test's, which only logs the variables: the host's resolv.conf and
// hooks are not touched either.
type dhcpcdRunner struct {
	t               *testing.T
	ns              *testenv.NetNS
	bin, dir, iface string
	conf, events    string
}

func newDhcpcd(t *testing.T, ns *testenv.NetNS, iface string, extraConf string) *dhcpcdRunner {
	bin := testenv.NeedCommand(t, "dhcpcd")[0]
	testenv.NeedCommand(t, "mount")
	dir := t.TempDir()
	r := &dhcpcdRunner{t: t, ns: ns, bin: bin, dir: dir, iface: iface,
		conf: filepath.Join(dir, "dhcpcd.conf"), events: filepath.Join(dir, "events")}
	for _, d := range []string{"run", "db"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "hook")
	os.WriteFile(script, []byte(`#!/bin/sh
echo "$reason ip=$new_ip_address routers=$new_routers dns=$new_domain_name_servers domain=$new_domain_name search=$new_domain_search ntp=$new_ntp_servers mtu=$new_interface_mtu routes=$new_classless_static_routes lease=$new_dhcp_lease_time" >> `+r.events+`
`), 0o755)
	os.WriteFile(r.conf, []byte(`# pxekit test configuration
script `+script+`
ipv4only
noipv4ll
clientid
option domain_name_servers, domain_name, domain_search, ntp_servers, interface_mtu, classless_static_routes
`+extraConf), 0o644)
	return r
}

// command returns dhcpcd with args, run with the test's state directories.
func (r *dhcpcdRunner) command(args ...string) []string {
	wrap := `mount --bind "$1" /run && mount --bind "$2" /var/lib/dhcpcd && shift 2 && exec "$@"`
	return append([]string{"sh", "-c", wrap, "sh", filepath.Join(r.dir, "run"), filepath.Join(r.dir, "db"), r.bin, "-f", r.conf}, args...)
}

// start runs dhcpcd in the foreground on the interface until the test ends.
func (r *dhcpcdRunner) start() {
	os.Remove(r.events)
	c := r.command("-B", "-d", "-4", "-j", filepath.Join(r.dir, "log"), r.iface)
	cmd := r.ns.Command(r.t.Context(), c[0], c[1:]...)
	// Output to a file, not a pipe: dhcpcd's privilege-separated helpers
	// inherit it and outlive a killed parent (the namespace's removal
	// ends them).
	out, err := os.Create(filepath.Join(r.dir, "output"))
	if err != nil {
		r.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start dhcpcd: %v", err)
	}
	r.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if r.t.Failed() {
			b, _ := os.ReadFile(filepath.Join(r.dir, "output"))
			l, _ := os.ReadFile(filepath.Join(r.dir, "log"))
			r.t.Logf("dhcpcd output:\n%s\ndhcpcd log:\n%s", b, l)
		}
	})
}

// run runs a dhcpcd control command (-k …) against the running one.
func (r *dhcpcdRunner) run(args ...string) {
	r.t.Helper()
	c := r.command(args...)
	if out, err := r.ns.Command(r.t.Context(), c[0], c[1:]...).CombinedOutput(); err != nil {
		r.t.Fatalf("dhcpcd %v: %v\n%s", args, err, out)
	}
}

// wait returns the first event line of the hook for reason, failing the
// test after d.
func (r *dhcpcdRunner) wait(reason string, d time.Duration) string {
	r.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(r.events)
		for l := range strings.SplitSeq(string(b), "\n") {
			if strings.HasPrefix(l, reason+" ") {
				return l
			}
		}
	}
	b, _ := os.ReadFile(r.events)
	r.t.Fatalf("dhcpcd: no %s event in %v; events:\n%s", reason, d, b)
	return ""
}

// TestDhcpcd runs dhcpcd (with its ARP probe, RFC 5227) against the full
// DHCP server on a segment where another host holds the first address of
// the pool: dhcpcd must decline it (DHCPDECLINE), the server must record
// the conflict in its lease file and hand dhcpcd the next address, with
// the lease's options (router, DNS, domain, search list, NTP, MTU, and
// classless routes with the default route added, as dhcpcd prints them); dhcpcd renews (a 20 s lease, dhcpcd's minimum: T1
// after 10 s) and releases (dhcpcd -k). After a restart of the server on
// the same lease file, a new client (another MAC, without ARP probing,
// so it would take whatever it is offered) must not get the declined
// address either.
func TestDhcpcd(t *testing.T) {
	testenv.NeedCommand(t, "dhcpcd")
	hub, srv, cl, squat := testenv.NewNetNS(t), testenv.NewNetNS(t), testenv.NewNetNS(t), testenv.NewNetNS(t)
	hub.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
	var clIf string
	for i, n := range []struct {
		ns   *testenv.NetNS
		addr string
	}{{srv, "10.0.0.1/24"}, {cl, "10.0.0.9/24"}, {squat, "10.0.0.100/24"}} {
		h, other := testenv.Veth(t, hub, netip.MustParsePrefix("10.0.0.25"+strconv.Itoa(i)+"/24"), n.ns, netip.MustParsePrefix(n.addr))
		hub.MustRun(t, "ip", "addr", "flush", "dev", h)
		hub.MustRun(t, "ip", "link", "set", h, "master", "br0")
		if n.ns == cl {
			clIf = other
		}
	}
	hub.MustRun(t, "ip", "link", "set", "br0", "up")
	cl.MustRun(t, "ip", "addr", "flush", "dev", clIf)

	path := filepath.Join(t.TempDir(), "leases")
	newServer := func() (*Pool, func()) {
		p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.102"),
			Routers: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, DNS: []netip.Addr{netip.MustParseAddr("10.0.0.53")},
			Domain: "lab.example", Search: DomainSearch{"lab.example", "example"},
			NTP: []netip.Addr{netip.MustParseAddr("10.0.0.123")}, MTU: 1400,
			Routes:    ClasslessRoutes{{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParseAddr("10.0.0.254")}},
			LeaseTime: 20 * time.Second, Store: &FileStore{Path: path}}
		s := &Server{Pool: p}
		errc := serveInNS(t, srv, s)
		return p, func() {
			s.Close()
			<-errc
			p.Store.(*FileStore).Close()
		}
	}

	pool, stop := newServer()
	d := newDhcpcd(t, cl, clIf, "")
	d.start()
	bound := d.wait("BOUND", 30*time.Second)
	t.Logf("dhcpcd: %s", bound)
	for _, want := range []string{"ip=10.0.0.101 ", "routers=10.0.0.1 ", "dns=10.0.0.53 ", "domain=lab.example ", "lease=20",
		"search=lab.example example ", "ntp=10.0.0.123 ", "mtu=1400 ", "routes=0.0.0.0/0 10.0.0.1 10.1.0.0/16 10.0.0.254 "} {
		if !strings.Contains(bound, want) {
			t.Errorf("BOUND event %q lacks %q (10.0.0.100 is held by another host)", bound, want)
		}
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "10.0.0.100 conflict ") {
		t.Errorf("lease file after dhcpcd's DECLINE lacks the conflict on 10.0.0.100:\n%s", b)
	}
	ls := pool.Leases()
	if len(ls) != 1 || ls[0].Addr.String() != "10.0.0.101" {
		t.Fatalf("leases after BOUND: %v", ls)
	}
	before := ls[0].Expiry
	d.wait("RENEW", 20*time.Second)
	if l := pool.Leases(); len(l) != 1 || !l[0].Expiry.After(before) {
		t.Errorf("lease not extended by the renewal: %v (was %v)", l, before)
	}
	d.run("-4", "-k", clIf)
	for deadline := time.Now().Add(5 * time.Second); len(pool.Leases()) != 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if l := pool.Leases(); len(l) != 0 {
		t.Errorf("leases after dhcpcd -k: %v, want none (released)", l)
	}
	stop()

	// Restart; another client that does not probe.
	pool, stop = newServer()
	defer stop()
	cl.MustRun(t, "ip", "link", "set", clIf, "address", "02:00:00:00:cd:02")
	d2 := newDhcpcd(t, cl, clIf, "noarp\n")
	d2.start()
	if bound := d2.wait("BOUND", 30*time.Second); strings.Contains(bound, "ip=10.0.0.100 ") {
		t.Errorf("after a restart the declined 10.0.0.100 went to the next client: %s", bound)
	}
	if l := pool.Leases(); len(l) != 1 || l[0].Addr.String() == "10.0.0.100" {
		t.Errorf("leases after the restart: %v", l)
	}
}
