package dhcp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestDhclient runs ISC dhclient against the full DHCP server: a lease
// with the router, DNS server, domain, search list, NTP server, MTU and
// classless routes (with the default route added) that Debian's
// dhclient.conf asks for, a renewal
// (4 s lease, so RENEW after about 2 s), and a release (dhclient -r).
func TestDhclient(t *testing.T) {
	dhclient := testenv.NeedCommand(t, "dhclient")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	_, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.0.1/24"), cl, netip.MustParsePrefix("10.0.0.2/24"))
	cl.MustRun(t, "ip", "addr", "flush", "dev", ifc)

	dir := t.TempDir()
	pool := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.110"),
		Routers: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, DNS: []netip.Addr{netip.MustParseAddr("10.0.0.53")},
		Domain: "lab.example", Search: DomainSearch{"lab.example", "example"},
		NTP: []netip.Addr{netip.MustParseAddr("10.0.0.123")}, MTU: 1400,
		Routes:    ClasslessRoutes{{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParseAddr("10.0.0.254")}},
		LeaseTime: 4 * time.Second,
		Store:     &FileStore{Path: filepath.Join(dir, "leases")}}
	s := &Server{Pool: pool}
	serveIn(t, srv, s, "0.0.0.0:67")

	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte(`#!/bin/sh
echo "$reason ip=$new_ip_address routers=$new_routers dns=$new_domain_name_servers domain=$new_domain_name search=$new_domain_search ntp=$new_ntp_servers mtu=$new_interface_mtu routes=$new_rfc3442_classless_static_routes lease=$new_dhcp_lease_time" >> `+logf+`
case "$reason" in
BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;;
RELEASE|EXPIRE|FAIL|STOP) ip addr flush dev "$interface" ;;
esac
`), 0o755)
	args := []string{"-4", "-sf", script, "-lf", filepath.Join(dir, "dhclient.leases"), "-pf", filepath.Join(dir, "dhclient.pid")}
	cmd := cl.Command(t.Context(), dhclient, append(append([]string{"-d"}, args...), ifc)...)
	testenv.Start(t, cmd, "dhclient")
	waitFor := func(what string) string {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			b, _ := os.ReadFile(logf)
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, what+" ") {
					return l
				}
			}
		}
		b, _ := os.ReadFile(logf)
		t.Fatalf("dhclient: no %q event; events:\n%s", what, b)
		return ""
	}
	bound := waitFor("BOUND")
	t.Logf("dhclient: %s", bound)
	for _, want := range []string{"ip=10.0.0.100 ", "routers=10.0.0.1 ", "dns=10.0.0.53 ", "domain=lab.example ", "lease=4",
		"search=lab.example. example. ", "ntp=10.0.0.123 ", "mtu=1400 ", "routes=0 10 0 0 1 16 10 1 10 0 0 254 "} {
		if !strings.Contains(bound, want) {
			t.Errorf("BOUND event %q lacks %q", bound, want)
		}
	}
	if l := pool.Leases(); len(l) != 1 || l[0].Addr.String() != "10.0.0.100" {
		t.Fatalf("leases after BOUND: %v", l)
	}
	before := pool.Leases()[0].Expiry
	waitFor("RENEW")
	if l := pool.Leases(); len(l) != 1 || !l[0].Expiry.After(before) {
		t.Errorf("lease not extended by the renewal: %v (was %v)", l, before)
	}
	// dhclient -r stops the running client (pid file) and sends a RELEASE.
	if out, err := cl.Command(t.Context(), dhclient, append(append([]string{"-r"}, args...), ifc)...).CombinedOutput(); err != nil {
		t.Fatalf("dhclient -r: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(5 * time.Second); len(pool.Leases()) != 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if l := pool.Leases(); len(l) != 0 {
		t.Errorf("leases after dhclient -r: %v, want none (released)", l)
	}
}
