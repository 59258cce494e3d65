package dhcp6

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
)

// shortPool is a stateful pool on v6Segment's prefix with lifetimes short
// enough that a client renews within the test (T1 = 2 s).
func shortPool(t *testing.T) *Pool {
	return &Pool{
		Prefix:            netip.MustParsePrefix("2001:db8:16::/64"),
		PreferredLifetime: 4 * time.Second, ValidLifetime: 8 * time.Second,
		DNS:   []netip.Addr{netip.MustParseAddr("2001:db8:16::53")},
		Store: &dhcp.FileStore{Path: filepath.Join(t.TempDir(), "leases6")},
	}
}

// waitEvent waits until the file logf, written by a client's script one
// line per event, has a line starting with what, and returns it.
func waitEvent(t *testing.T, logf, what string, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(logf)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, what+" ") {
				return l
			}
		}
	}
	b, _ := os.ReadFile(logf)
	t.Fatalf("no %q event in %s:\n%s", what, d, b)
	return ""
}

// checkLease checks that p holds one lease, for an address the event
// line names, and returns it.
func checkLease(t *testing.T, p *Pool, event string) Lease6 {
	t.Helper()
	ls := p.Leases()
	if len(ls) != 1 {
		t.Fatalf("server holds %d leases, want 1: %+v (client event %q)", len(ls), ls, event)
	}
	if !strings.Contains(event, "addr="+ls[0].Addr.String()+" ") {
		t.Errorf("client event %q, server lease %v", event, ls[0].Addr)
	}
	return ls[0]
}

func waitNoLeases(t *testing.T, p *Pool, who string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(p.Leases()) != 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if l := p.Leases(); len(l) != 0 {
		t.Errorf("leases after %s: %+v, want none (released)", who, l)
	}
	if ls, _ := p.Store.Load(t.Context()); len(ls) != 0 {
		t.Errorf("lease store after %s: %+v, want empty", who, ls)
	}
}

// TestStatefulDhclient: ISC dhclient -6 (stateful, IA_NA) on a veth in
// its own namespace gets an address of the pool with the boot file URL
// and DNS server, renews it at T1 (2 s), and releases it (dhclient -6 -r);
// the lease file follows.
func TestStatefulDhclient(t *testing.T) {
	dhclient := testenv.NeedCommand(t, "dhclient", "sysctl")[0]
	srv, cli, srvIf, cliIf := v6Segment(t)
	p := shortPool(t)
	serve6(t, srv, &Server{Decider: bootDecider, Interface: srvIf, ServerAddr: netip.MustParseAddr("2001:db8:16::1"), Pool: p})

	dir := t.TempDir()
	conf := filepath.Join(dir, "dhclient6.conf")
	if err := os.WriteFile(conf, []byte(`option dhcp6.client-arch-type code 61 = unsigned integer 16;
option dhcp6.bootfile-url code 59 = string;
send dhcp6.client-arch-type 7;
also request dhcp6.bootfile-url;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
echo "$reason addr=$new_ip6_address pref=$new_preferred_life valid=$new_max_life url=$new_dhcp6_bootfile_url dns=$new_dhcp6_name_servers " >> `+logf+`
`), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-6", "-cf", conf, "-lf", filepath.Join(dir, "dhclient6.leases"), "-pf", filepath.Join(dir, "dhclient6.pid"), "-sf", script}
	testenv.Start(t, cli.Command(t.Context(), dhclient, append(append([]string{"-d", "-v"}, args...), cliIf)...), "dhclient -6")

	bound := waitEvent(t, logf, "BOUND6", 30*time.Second)
	for _, want := range []string{"pref=4 ", "valid=8 ", "url=tftp://[2001:db8:16::1]/ipxe.efi ", "dns=2001:db8:16::53 "} {
		if !strings.Contains(bound, want) {
			t.Errorf("BOUND6 event %q lacks %q", bound, want)
		}
	}
	l := checkLease(t, p, bound)
	if l.MAC == nil {
		t.Errorf("lease without MAC; dhclient sends a DUID-LLT")
	}
	renew := waitEvent(t, logf, "RENEW6", 15*time.Second)
	if l2 := checkLease(t, p, renew); !l2.Expiry.After(l.Expiry) {
		t.Errorf("lease not extended by the renewal: %v (was %v)", l2.Expiry, l.Expiry)
	}
	// dhclient -r stops the running client (pid file) and sends a
	// Release.
	if out, err := cli.Command(t.Context(), dhclient, append(append([]string{"-r", "-v"}, args...), cliIf)...).CombinedOutput(); err != nil {
		t.Fatalf("dhclient -6 -r: %v\n%s", err, out)
	}
	waitNoLeases(t, p, "dhclient -6 -r")
}

// TestStatefulDhcpcd: dhcpcd -6 (IA_NA without waiting for a router
// advertisement) gets an address, puts it on its interface, renews it,
// and releases it (dhcpcd -k).
func TestStatefulDhcpcd(t *testing.T) {
	dhcpcd := testenv.NeedCommand(t, "dhcpcd", "sysctl")[0]
	srv, cli, srvIf, cliIf := v6Segment(t)
	p := shortPool(t)
	serve6(t, srv, &Server{Decider: bootDecider, Interface: srvIf, ServerAddr: netip.MustParseAddr("2001:db8:16::1"), Pool: p})

	dir := t.TempDir()
	conf := filepath.Join(dir, "dhcpcd.conf")
	// noipv6rs and an explicit ia_na: DHCPv6 at once, no RA needed.
	if err := os.WriteFile(conf, []byte("ipv6only\nnoipv6rs\nia_na 1\noption dhcp6_name_servers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
echo "$reason addr=$new_dhcp6_ia_na1_ia_addr1 dns=$new_dhcp6_name_servers " >> `+logf+`
`), 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, cli.Command(t.Context(), dhcpcd, "-6", "-B", "-d", "-f", conf, "-c", script, cliIf), "dhcpcd -6")

	bound := waitEvent(t, logf, "BOUND6", 30*time.Second)
	if !strings.Contains(bound, "dns=2001:db8:16::53 ") {
		t.Errorf("BOUND6 event %q lacks the DNS server", bound)
	}
	l := checkLease(t, p, bound)
	if out := cli.MustRun(t, "ip", "-6", "addr", "show", "dev", cliIf); !strings.Contains(out, l.Addr.String()) {
		t.Errorf("dhcpcd did not configure %v:\n%s", l.Addr, out)
	}
	renew := waitEvent(t, logf, "RENEW6", 15*time.Second)
	if l2 := checkLease(t, p, renew); !l2.Expiry.After(l.Expiry) {
		t.Errorf("lease not extended by the renewal: %v (was %v)", l2.Expiry, l.Expiry)
	}
	if out, err := cli.Command(t.Context(), dhcpcd, "-6", "-k", cliIf).CombinedOutput(); err != nil {
		t.Fatalf("dhcpcd -k: %v\n%s", err, out)
	}
	waitNoLeases(t, p, "dhcpcd -k")
}
