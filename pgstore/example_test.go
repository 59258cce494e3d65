package pgstore_test

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// TestExampleKill9 runs two processes of examples/dhcpd (this module's)
// on one segment against one database, and kills one with SIGKILL in the
// middle of a load of 30 clients arriving 50 ms apart, while some of its
// clients keep asking: the other serves them within the failover time
// (2 s) plus a retry, every client of the load gets a lease, and no
// address goes to two clients.
func TestExampleKill9(t *testing.T) {
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	bin := filepath.Join(t.TempDir(), "dhcpd")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/dhcpd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nsA, _ := l.join(netip.MustParsePrefix("10.0.18.1/24"))
	nsB, _ := l.join(netip.MustParsePrefix("10.0.18.2/24"))
	start := func(ns *testenv.NetNS, id string) *exec.Cmd {
		cmd := ns.Command(t.Context(), bin, "-id", id, "-range", "10.0.18.100-10.0.18.169", "-subnet", subnet.String(),
			"-leases", url, "-failover-time", "2s")
		testenv.Start(t, cmd, "dhcpd "+id)
		return cmd
	}
	start(nsA, "a")
	b := start(nsB, "b")
	store := open(t, url)
	t.Cleanup(func() { store.Close() })
	waitUntil(t, "both servers beating", 10*time.Second, func() bool {
		ps, err := store.Peers(t.Context())
		return err == nil && len(ps) == 2 && !slices.ContainsFunc(ps, func(p dhcp.Peer) bool { return p.Age > time.Second })
	})
	time.Sleep(500 * time.Millisecond) // both have seen both

	addrA, addrB := netip.MustParseAddr("10.0.18.1"), netip.MustParseAddr("10.0.18.2")
	rs := l.race(0, 20, 10*time.Second)
	for _, r := range rs {
		want := addrB
		if (dhcp.Split{Index: 0, N: 2}).Serves(dhcp.LoadBalanceHash(r.mac)) {
			want = addrA
		}
		if r.err == nil && r.server != want {
			t.Errorf("client %v served by %v, want %v", r.mac, r.server, want)
		}
	}
	// Mid-load: 30 clients start 50 ms apart, and b is killed after the
	// tenth has started.
	load := make(chan []result, 1)
	go func() {
		out := make([]result, 30)
		var wg sync.WaitGroup
		for i := range out {
			time.Sleep(50 * time.Millisecond)
			wg.Go(func() { out[i] = l.dora(t.Context(), clientMAC(3000+i), 15*time.Second) })
		}
		wg.Wait()
		load <- out
	}()
	time.Sleep(500 * time.Millisecond)
	if err := b.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	victims := bucketOf(1, 2000, 5)
	got := make(chan result, len(victims))
	for _, v := range victims {
		go func() { got <- l.dora(t.Context(), clientMAC(v), 15*time.Second) }()
	}
	for range victims {
		r := <-got
		took := time.Since(killed)
		rs = append(rs, r)
		if r.err == nil && r.server != addrA {
			t.Errorf("after kill -9 of b: client %v served by %v", r.mac, r.server)
		}
		if took > 4*time.Second {
			t.Errorf("after kill -9 of b: client %v waited %v", r.mac, took)
		}
		t.Logf("after kill -9 of b: client %v got %v from %v after %v", r.mac, r.addr, r.server, took.Round(10*time.Millisecond))
	}
	mid := <-load
	for _, r := range mid {
		if r.err != nil {
			t.Errorf("mid-load client %v: %v", r.mac, r.err)
		}
	}
	t.Logf("mid-load: %d clients, all leased", len(mid))
	checkLeases(t, store, append(rs, mid...))
}
