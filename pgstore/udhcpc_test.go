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

// bound is what a real client program bound: its address and the
// server that gave it (option 54).
type bound struct {
	mac    net.HardwareAddr
	ip     netip.Addr
	server netip.Addr
	kind   string // the program
	err    error
}

func (b bound) result() result {
	return result{mac: b.mac, addr: b.ip, server: b.server, err: b.err}
}

// clientNS adds a namespace without an address to the segment, for a
// client program, and returns it with its interface and MAC.
func (l *lab) clientNS(i int) (*testenv.NetNS, string, net.HardwareAddr) {
	ns, dev := l.join(netip.MustParsePrefix(fmt.Sprintf("10.0.18.%d/24", 200+i)))
	ns.MustRun(l.t, "ip", "addr", "flush", "dev", dev)
	mac, err := net.ParseMAC(strings.TrimSpace(ns.MustRun(l.t, "cat", "/sys/class/net/"+dev+"/address")))
	if err != nil {
		l.t.Fatal(err)
	}
	return ns, dev, mac
}

// udhcpc runs busybox udhcpc once (-q -n) in a namespace of its own,
// client number i, and calls done with what it bound.
func (l *lab) udhcpc(busybox, dir string, i int, wg *sync.WaitGroup, done func(bound)) {
	ns, dev, mac := l.clientNS(i)
	script := filepath.Join(dir, fmt.Sprintf("udhcpc-script%d", i))
	events := filepath.Join(dir, fmt.Sprintf("udhcpc-events%d", i))
	os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = bound ] && echo \"$ip $serverid\" > "+events+"\nexit 0\n"), 0o755)
	wg.Go(func() {
		b := bound{mac: mac, kind: "udhcpc"}
		cmd := ns.Command(l.t.Context(), busybox, "udhcpc", "-i", dev, "-f", "-q", "-n", "-s", script, "-t", "10", "-T", "1", "-A", "1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("udhcpc: %v\n%s", err, out)
			done(b)
			return
		}
		ev, _ := os.ReadFile(events)
		f := strings.Fields(string(ev))
		if len(f) != 2 {
			b.err = fmt.Errorf("udhcpc: no bound event %q\n%s", ev, out)
			done(b)
			return
		}
		b.ip, b.err = netip.ParseAddr(f[0])
		if b.err == nil {
			b.server, b.err = netip.ParseAddr(f[1])
		}
		done(b)
	})
}

// udhcpcKey is what RFC 3074 hashes for busybox udhcpc: it sends option
// 61, type 1 and its MAC (dhcp.BalanceKey).
func udhcpcKey(mac net.HardwareAddr) []byte { return append([]byte{1}, mac...) }

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
	got := make([]bound, n)
	var wg sync.WaitGroup
	for i := range n {
		l.udhcpc(busybox, dir, i, &wg, func(g bound) { got[i] = g })
	}
	wg.Wait()
	rs := make([]result, n)
	for i, g := range got {
		rs[i] = g.result()
		owner := b.addr
		if (dhcp.Split{Index: 0, N: 2}).Serves(dhcp.LoadBalanceHash(udhcpcKey(g.mac))) {
			owner = a.addr
		}
		if g.err == nil && g.server != owner {
			t.Errorf("udhcpc %v bound %v from %v, want its bucket's owner %v", g.mac, g.ip, g.server, owner)
		}
	}
	checkLeases(t, stA, rs)
}
