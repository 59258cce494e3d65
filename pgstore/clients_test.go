package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// dhclient runs ISC dhclient in a namespace of its own, client number
// i, with its own configuration, lease and pid files under dir (the
// host's are never read or written), and calls done with what it bound
// first; the client keeps running until the test ends.
func (l *lab) dhclient(dhclient, dir string, i int, wg *sync.WaitGroup, done func(bound)) {
	ns, dev, mac := l.clientNS(i)
	p := func(s string) string { return filepath.Join(dir, fmt.Sprintf("dhclient%d.%s", i, s)) }
	os.WriteFile(p("conf"), nil, 0o644)
	os.WriteFile(p("script"), []byte("#!/bin/sh\n"+
		"case \"$reason\" in BOUND) echo \"$new_ip_address $new_dhcp_server_identifier\" > "+p("events")+" ;; esac\nexit 0\n"), 0o755)
	cmd := ns.Command(l.t.Context(), dhclient, "-d", "-4", "-cf", p("conf"), "-sf", p("script"), "-lf", p("leases"), "-pf", p("pid"), dev)
	testenv.Start(l.t, cmd, fmt.Sprintf("dhclient %d", i))
	wg.Go(func() {
		b := bound{mac: mac, kind: "dhclient"}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			ev, _ := os.ReadFile(p("events"))
			if f := strings.Fields(string(ev)); len(f) == 2 {
				b.ip, b.err = netip.ParseAddr(f[0])
				if b.err == nil {
					b.server, b.err = netip.ParseAddr(f[1])
				}
				done(b)
				return
			}
		}
		b.err = fmt.Errorf("dhclient %d (%v): no BOUND within 30 s", i, mac)
		done(b)
	})
}

// perfdhcpMAC is the MAC of perfdhcp's client number i (its -M list).
func perfdhcpMAC(i int) net.HardwareAddr { return net.HardwareAddr{0x02, 0x18, 0x70, 0, 0, byte(i)} }

// dbRows returns the lease rows (no offers, no conflicts) as address →
// MAC, and fails the test when a MAC holds two addresses.
func dbRows(t *testing.T, url string) map[netip.Addr]string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT host(addr), mac FROM pxekit_leases WHERE NOT offered AND declined IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[netip.Addr]string{}
	byMAC := map[string]netip.Addr{}
	for rows.Next() {
		var s string
		var mac []byte
		if err := rows.Scan(&s, &mac); err != nil {
			t.Fatal(err)
		}
		a := netip.MustParseAddr(s)
		m := net.HardwareAddr(mac).String()
		if other, dup := byMAC[m]; dup {
			t.Errorf("database: %s holds %v and %v", m, other, a)
		}
		out[a], byMAC[m] = m, a
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRealClientsTwoServers: two pxekit servers share the pool in one
// database with an RFC 3074 split, and real client programs ask at
// once: 6 ISC dhclient and 4 busybox udhcpc, each in a namespace of its
// own, while perfdhcp loads the segment with 30 more clients in
// broadcast mode. Every dhclient and udhcpc binds an address of its
// own from its bucket's owner and the database holds it for that MAC;
// no MAC holds two addresses in the database; every lease each server
// committed is in its own half of the buckets, and the two servers'
// leases together are the database's rows.
func TestRealClientsTwoServers(t *testing.T) {
	dhclient := testenv.NeedCommand(t, "dhclient")[0]
	busybox := testenv.NeedCommand(t, "busybox")[0]
	perfdhcp := testenv.NeedCommand(t, "perfdhcp")[0]
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	stA, stB := open(t, url), open(t, url)
	t.Cleanup(func() { stA.Close(); stB.Close() })
	splits := []dhcp.Split{{Index: 0, N: 2}, {Index: 1, N: 2}}
	a := l.server(netip.MustParsePrefix("10.0.18.1/24"), stA, splits[0])
	b := l.server(netip.MustParsePrefix("10.0.18.2/24"), stB, splits[1])
	owner := func(key []byte) netip.Addr {
		if splits[0].Serves(dhcp.LoadBalanceHash(key)) {
			return a.addr
		}
		return b.addr
	}

	dir := t.TempDir()
	const nDhclient, nUdhcpc, nPerf = 6, 4, 30
	var macs strings.Builder
	for i := range nPerf {
		fmt.Fprintln(&macs, perfdhcpMAC(i))
	}
	os.WriteFile(filepath.Join(dir, "perfdhcp.macs"), []byte(macs.String()), 0o644)
	perfNS, perfDev := l.join(netip.MustParsePrefix("10.0.18.240/24"))

	var mu sync.Mutex
	var got []bound
	add := func(g bound) { mu.Lock(); got = append(got, g); mu.Unlock() }
	var wg sync.WaitGroup
	var perfOut []byte
	var perfErr error
	wg.Go(func() {
		// 20 DORA/s for 3 s over the 30 MACs, broadcast (-l interface,
		// -B), so that both servers see every DISCOVER.
		cmd := perfNS.Command(t.Context(), perfdhcp, "-4", "-l", perfDev, "-B", "-r", "20", "-p", "3", "-W", "1000000",
			"-M", filepath.Join(dir, "perfdhcp.macs"))
		perfOut, perfErr = cmd.CombinedOutput()
	})
	for i := range nDhclient {
		l.dhclient(dhclient, dir, i, &wg, add)
	}
	for i := range nUdhcpc {
		l.udhcpc(busybox, dir, nDhclient+i, &wg, add)
	}
	wg.Wait()
	if _, ok := perfErr.(*exec.ExitError); perfErr != nil && !ok {
		t.Fatalf("perfdhcp: %v\n%s", perfErr, perfOut)
	}
	acks := 0
	for _, line := range strings.Split(string(perfOut), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "received" && f[1] == "packets:" {
			fmt.Sscan(f[2], &acks) // the second "received packets" line is the ACKs
		}
	}
	t.Logf("perfdhcp: %d ACKs received (exit %v)", acks, perfErr)
	if acks == 0 {
		t.Errorf("perfdhcp got no ACK:\n%s", perfOut)
	}

	rs := make([]result, 0, len(got))
	for _, g := range got {
		rs = append(rs, g.result())
		key := []byte(g.mac) // dhclient sends no option 61
		if g.kind == "udhcpc" {
			key = udhcpcKey(g.mac)
		}
		if g.err == nil && g.server != owner(key) {
			t.Errorf("client %v bound %v from %v, want its bucket's owner %v", g.mac, g.ip, g.server, owner(key))
		}
	}
	if len(rs) != nDhclient+nUdhcpc {
		t.Fatalf("%d clients reported, want %d", len(rs), nDhclient+nUdhcpc)
	}
	checkLeases(t, stA, rs)

	// The database: no MAC twice (dbRows), and the servers' own leases
	// are their buckets' and together are the rows.
	inDB := dbRows(t, url)
	held := map[netip.Addr]string{}
	perfLeased := 0
	for i, s := range []*server{a, b} {
		for _, le := range s.srv.Pool.Leases() {
			key := []byte(le.MAC)
			if len(le.ClientID) > 0 {
				key = le.ClientID
			}
			key = key[:min(len(key), 16)] // RFC 3074 §4, as dhcp.BalanceKey
			if !splits[i].Serves(dhcp.LoadBalanceHash(key)) {
				t.Errorf("server %v leased %v to %v, a client of the other's bucket", s.addr, le.Addr, le.MAC)
			}
			if other, dup := held[le.Addr]; dup {
				t.Errorf("%v held by %s on one server and %v on the other", le.Addr, other, le.MAC)
			}
			held[le.Addr] = le.MAC.String()
			if inDB[le.Addr] != le.MAC.String() {
				t.Errorf("server %v holds %v for %v; the database for %q", s.addr, le.Addr, le.MAC, inDB[le.Addr])
			}
			if le.MAC[2] == 0x70 {
				perfLeased++
			}
		}
	}
	if len(held) != len(inDB) {
		t.Errorf("servers hold %d leases, the database %d rows", len(held), len(inDB))
	}
	t.Logf("database: %d leases (%d of perfdhcp's %d MACs); a %d, b %d", len(inDB), perfLeased, nPerf,
		len(a.srv.Pool.Leases()), len(b.srv.Pool.Leases()))
}
