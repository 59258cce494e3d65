package dhcp

import (
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

// TestDeclineSurvivesRestart checks that a declined address is a known
// conflict kept in the lease store: after a restart, and however long
// after, it does not go to the next client while another address is
// free; once none is, it is retried, and the conflict ends when a client
// keeps it.
func TestDeclineSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	newPool := func() *Pool {
		return &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.101"), Store: &FileStore{Path: path}}
	}
	s, clk := newFullServer(t, newPool())
	ack := dora(t, s, mac(1), false)
	bad := ack.YourIPAddr.String()
	dec := plainRequest(t, dhcpv4.MessageTypeDecline, dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)))
	if r := mustHandle(t, s, dec, in67); r != nil {
		t.Fatalf("DECLINE answered: %v", r)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), bad+" conflict "+mac(1).String()+" ") {
		t.Errorf("lease file after DECLINE of %s lacks the conflict:\n%s", bad, b)
	}

	// Restart, a day later: the conflict is still known.
	s.Pool.Store.(*FileStore).Close()
	s, _ = newFullServer(t, newPool())
	s.Pool.now = func() time.Time { return clk.now().Add(24 * time.Hour) }
	other := dora(t, s, mac(2), false).YourIPAddr.String()
	if other == bad {
		t.Fatalf("after a restart the declined %s went to the next client", bad)
	}
	// The pool is full but for the conflict: it is tried again, and the
	// client that keeps it ends the conflict.
	if got := dora(t, s, mac(3), false).YourIPAddr.String(); got != bad {
		t.Fatalf("full pool: got %s, want the conflict %s retried", got, bad)
	}
	s.Pool.Store.(*FileStore).Close()
	s, _ = newFullServer(t, newPool())
	s.Pool.now = func() time.Time { return clk.now().Add(24 * time.Hour) }
	ls := s.Pool.Leases()
	if len(ls) != 2 {
		t.Fatalf("leases after the conflict ended: %v", ls)
	}
	for _, l := range ls {
		if l.Addr.String() == bad && l.MAC.String() != mac(3).String() {
			t.Errorf("lease of %s: %v, want mac(3)'s", bad, l)
		}
	}
}

// TestUdhcpcDeclineAcrossRestart has busybox udhcpc find the offered
// address in use (another host answers its ARP probe, -a) and decline it,
// then restarts the server on the same lease file: the next client must
// not get the declined address.
func TestUdhcpcDeclineAcrossRestart(t *testing.T) {
	busybox := testenv.NeedCommand(t, "busybox")[0]
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
	newServer := func() (*Server, func()) {
		p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.102"), Store: &FileStore{Path: path}}
		s := &Server{Pool: p}
		errc := serveInNS(t, srv, s)
		return s, func() {
			s.Close()
			<-errc
			p.Store.(*FileStore).Close()
		}
	}
	dir := t.TempDir()
	logf, script := filepath.Join(dir, "events"), filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 ip=$ip\" >> "+logf+"\n"), 0o755)
	udhcpc := func(args ...string) string {
		t.Helper()
		os.Remove(logf)
		args = append([]string{"udhcpc", "-i", clIf, "-f", "-q", "-n", "-s", script, "-t", "6", "-T", "1", "-A", "1"}, args...)
		out, err := cl.Command(t.Context(), busybox, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("udhcpc %v: %v\n%s", args, err, out)
		}
		ev, _ := os.ReadFile(logf)
		for l := range strings.SplitSeq(string(ev), "\n") {
			if ip, ok := strings.CutPrefix(l, "bound ip="); ok {
				return ip
			}
		}
		t.Fatalf("udhcpc: no bound event:\n%s\n%s", ev, out)
		return ""
	}

	_, stop := newServer()
	if got := udhcpc("-a"); got == "10.0.0.100" {
		t.Fatalf("udhcpc -a bound 10.0.0.100, which another host holds")
	}
	stop()
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "10.0.0.100 conflict ") {
		t.Fatalf("lease file after udhcpc's DECLINE lacks the conflict on 10.0.0.100:\n%s", b)
	}

	// Restart; a new client (another MAC, so another identity) without
	// ARP probing would take whatever it is offered.
	_, stop = newServer()
	defer stop()
	cl.MustRun(t, "ip", "link", "set", clIf, "address", "02:00:00:00:aa:02")
	if got := udhcpc(); got == "10.0.0.100" {
		t.Errorf("after a restart the declined 10.0.0.100 went to the next client")
	}
}
