package pgstore_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// TestUdhcpcTwoServers: eight busybox udhcpc clients, each in a
// namespace of its own on the segment, ask at once; two pxekit servers
// share the pool in one database with an RFC 3074 split. Every client
// binds an address of its own, from its bucket's owner (udhcpc's
// serverid), and the database holds each for that client's MAC.
func TestUdhcpcTwoServers(t *testing.T) {
	busybox := testenv.NeedCommand(t, "busybox")[0]
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	stA, stB := open(t, url), open(t, url)
	t.Cleanup(func() { stA.Close(); stB.Close() })
	a := l.server(netip.MustParsePrefix("10.0.18.1/24"), stA, dhcp.Split{Index: 0, N: 2})
	b := l.server(netip.MustParsePrefix("10.0.18.2/24"), stB, dhcp.Split{Index: 1, N: 2})

	const n = 8
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = bound ] && echo \"$ip $serverid\" > \"$EVENTS\"\nexit 0\n"), 0o755)
	type bound struct {
		mac    net.HardwareAddr
		ip     netip.Addr
		server netip.Addr
		err    error
	}
	got := make([]bound, n)
	var wg sync.WaitGroup
	for i := range n {
		ns, dev := l.join(netip.MustParsePrefix(fmt.Sprintf("10.0.18.%d/24", 200+i)))
		ns.MustRun(t, "ip", "addr", "flush", "dev", dev)
		mac, err := net.ParseMAC(strings.TrimSpace(ns.MustRun(t, "cat", "/sys/class/net/"+dev+"/address")))
		if err != nil {
			t.Fatal(err)
		}
		events := filepath.Join(dir, fmt.Sprintf("events%d", i))
		wg.Go(func() {
			cmd := ns.Command(t.Context(), busybox, "udhcpc", "-i", dev, "-f", "-q", "-n", "-s", script, "-t", "10", "-T", "1", "-A", "1")
			cmd.Env = append(os.Environ(), "EVENTS="+events)
			out, err := cmd.CombinedOutput()
			got[i] = bound{mac: mac, err: err}
			if err != nil {
				got[i].err = fmt.Errorf("udhcpc: %v\n%s", err, out)
				return
			}
			ev, _ := os.ReadFile(events)
			f := strings.Fields(string(ev))
			if len(f) != 2 {
				got[i].err = fmt.Errorf("udhcpc: no bound event %q\n%s", ev, out)
				return
			}
			got[i].ip, got[i].err = netip.ParseAddr(f[0])
			if got[i].err == nil {
				got[i].server, got[i].err = netip.ParseAddr(f[1])
			}
		})
	}
	wg.Wait()
	rs := make([]result, n)
	for i, g := range got {
		rs[i] = result{mac: g.mac, addr: g.ip, server: g.server, err: g.err}
		owner := b.addr
		// busybox udhcpc sends option 61, type 1 and its MAC: RFC 3074
		// hashes that (dhcp.BalanceKey).
		if (dhcp.Split{Index: 0, N: 2}).Serves(dhcp.LoadBalanceHash(append([]byte{1}, g.mac...))) {
			owner = a.addr
		}
		if g.err == nil && g.server != owner {
			t.Errorf("udhcpc %v bound %v from %v, want its bucket's owner %v", g.mac, g.ip, g.server, owner)
		}
	}
	checkLeases(t, stA, rs)
}
