package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

const realClientHelperEnv = "PXEKIT_DHCP_REAL_CLIENT_HELPER_LEASES"

// TestHelperRealClientServer is not a test: it is the server process that
// TestKillDuringRealClientLease starts, kills and restarts in a
// namespace, running the test binary again with realClientHelperEnv
// naming the lease file. Its leases last 8 s, so that a real client
// renews (T1) 4 s after it is bound.
func TestHelperRealClientServer(t *testing.T) {
	path := os.Getenv(realClientHelperEnv)
	if path == "" {
		t.Skip("helper process for TestKillDuringRealClientLease")
	}
	s := &Server{Pool: &Pool{
		First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.110"),
		Routers: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, LeaseTime: 8 * time.Second, Store: &FileStore{Path: path},
	}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	if err := s.ListenAndServe("0.0.0.0:67"); !errors.Is(err, ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestKillDuringRealClientLease has a real client (ISC dhclient, or
// busybox udhcpc) hold a lease from a server process, SIGKILLs the server
// and restarts it on the same lease file. A new client (the other
// program) started then must get another address, and the first client's
// renewal must be ACKed with the address it holds: dhclient's own at T1
// (a RENEW, not a REBIND or a new BOUND after a NAK), udhcpc's on
// SIGUSR1 (a renew, without a deconfig in between).
func TestKillDuringRealClientLease(t *testing.T) {
	for _, holder := range []string{"dhclient", "udhcpc"} {
		t.Run(holder, func(t *testing.T) { testKillDuringRealClientLease(t, holder) })
	}
}

func testKillDuringRealClientLease(t *testing.T, holder string) {
	testenv.NeedCommand(t, "dhclient", "busybox")
	srv := testenv.NewNetNS(t)
	srv.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
	srv.MustRun(t, "ip", "addr", "add", "10.0.0.1/24", "dev", "br0")
	srv.MustRun(t, "ip", "link", "set", "br0", "up")
	// client adds a client namespace on the server's bridge.
	client := func() (*testenv.NetNS, string) {
		ns := testenv.NewNetNS(t)
		port, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("192.0.2.1/32"), ns, netip.MustParsePrefix("192.0.2.2/32"))
		srv.MustRun(t, "ip", "addr", "flush", "dev", port)
		srv.MustRun(t, "ip", "link", "set", port, "master", "br0")
		ns.MustRun(t, "ip", "addr", "flush", "dev", ifc)
		return ns, ifc
	}

	leases := filepath.Join(t.TempDir(), "leases")
	var cur *exec.Cmd
	var out strings.Builder
	start := func() {
		cmd := srv.Command(context.Background(), os.Args[0], "-test.run=^TestHelperRealClientServer$")
		cmd.Env = append(os.Environ(), realClientHelperEnv+"="+leases)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cur = cmd
	}
	stop := func(sig os.Signal) {
		cur.Process.Signal(sig)
		cur.Wait()
	}
	start()
	t.Cleanup(func() {
		stop(os.Kill)
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})

	ns, ifc := client()
	var a *realClient
	if holder == "dhclient" {
		a = startDhclient(t, ns, ifc)
	} else {
		a = startUdhcpc(t, ns, ifc)
	}
	boundLine, bound := a.wait(0, 30*time.Second, "BOUND", "bound")
	held := addr(boundLine)
	if !held.IsValid() {
		t.Fatalf("%s bound without an address: %q", holder, boundLine)
	}
	stop(os.Kill)
	start()

	// A new client while the first holds its lease: another address.
	ns2, ifc2 := client()
	var b *realClient
	if holder == "dhclient" {
		b = startUdhcpc(t, ns2, ifc2)
	} else {
		b = startDhclient(t, ns2, ifc2)
	}
	other, _ := b.wait(0, 30*time.Second, "BOUND", "bound")
	if addr(other) == held {
		t.Errorf("after the restart, %s got %v, which %s holds", b.name, held, holder)
	}

	// The holder renews and keeps its address.
	if holder == "udhcpc" {
		if err := a.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
	}
	renewed, _ := a.wait(bound+1, 20*time.Second, "RENEW", "REBIND", "BOUND", "EXPIRE", "FAIL", "renew", "bound", "deconfig", "leasefail", "nak")
	t.Logf("%s: %s; after the restart %s: %s; then %s: %s", holder, boundLine, b.name, other, holder, renewed)
	if !strings.HasPrefix(renewed, "RENEW ") && !strings.HasPrefix(renewed, "renew ") || addr(renewed) != held {
		t.Errorf("%s's next event after the restart: %q, want a renewal of %v; events since bound:\n%s",
			holder, renewed, held, strings.Join(a.lines()[bound:], "\n"))
	}

	stop(syscall.SIGTERM)
	stored, err := (&FileStore{Path: leases}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[netip.Addr]int{}
	for _, l := range stored {
		inFile[l.Addr]++
	}
	if len(stored) != 2 || inFile[held] != 1 || inFile[addr(other)] != 1 {
		t.Errorf("lease file after the renewal: %v, want %v (%s) and %v (%s)", stored, held, holder, addr(other), b.name)
	}
}
