//go:build linux

package pxeclient_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pxeclient"
)

// stormMachines is how many emulated machines boot at once in TestStorm.
const stormMachines = 100

// stormProfiles are cycled through by the storm's machines: EDK2 PXE on
// x86-64 and arm64 (TFTP throughout, with the size probe) and iPXE BIOS
// and EFI (port 4011 behind a proxy, iPXE scripts over HTTP where the
// server gives them).
var stormProfiles = []string{"ovmf-pxe", "bios-ipxe", "aavmf-pxe", "ipxe-efi"}

// stormTree is [tree] with a smaller kernel and initrd, so that a storm
// of 100 stays within CI's time on two cores.
func stormTree(t *testing.T) string {
	root := tree(t)
	for name, size := range map[string]int{"vmlinuz": 256<<10 + 3, "initrd.img": 512<<10 + 1} {
		b := make([]byte, size)
		_, _ = rand.Read(b)
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// storm boots n machines at once over conn from the client namespace of
// s, and checks that every one loaded the tree's kernel and initrd
// intact. It returns the wall time of the whole storm.
func storm(t *testing.T, s *seg, conn *pxeclient.Conn, root string, n int, macByte byte) time.Duration {
	t.Helper()
	profiles := make([]*pxeclient.Profile, len(stormProfiles))
	for i, name := range stormProfiles {
		p, ok := pxeclient.ProfileByName(name)
		if !ok {
			t.Fatalf("no profile %q", name)
		}
		profiles[i] = p
	}
	reps := make([]*pxeclient.Report, n)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		mac := net.HardwareAddr{0x52, 0x54, 0x17, macByte, byte(i >> 8), byte(i)}
		c := s.client(t, conn, profiles[i%len(profiles)], mac)
		wg.Go(func() { reps[i] = c.Boot(ctx) })
	}
	wg.Wait()
	wall := time.Since(start)
	var bad []string
	var totals []time.Duration
	retrans := 0
	for _, r := range reps {
		if err := verifyLoaded(r, root); err != nil {
			bad = append(bad, err.Error())
			continue
		}
		totals = append(totals, r.Total)
		retrans += r.DHCPRetrans + r.TFTPRetrans
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	if len(totals) > 0 {
		t.Logf("%d/%d machines loaded kernel and initrd in %v; boot p50 %v, max %v; %d retransmissions",
			len(totals), n, wall.Round(time.Millisecond), totals[len(totals)/2].Round(time.Millisecond), totals[len(totals)-1].Round(time.Millisecond), retrans)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Fatalf("%d of %d machines did not load intact; first:\n%s", len(bad), n, strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
	return wall
}

// stormSeg is a segment with room for the storm: a /20, server at .0.1.
func stormSeg(t *testing.T) *seg {
	s := &seg{srv: testenv.NewNetNS(t), cli: testenv.NewNetNS(t), srvAddr: netip.MustParseAddr("10.79.0.1")}
	s.srvIf, s.cliIf = testenv.Veth(t, s.srv, netip.MustParsePrefix("10.79.0.1/20"), s.cli, netip.MustParsePrefix("10.79.15.250/32"))
	return s
}

const (
	stormFirst, stormLast = "10.79.1.1", "10.79.2.254"
	stormMask             = "255.255.240.0"
)

// TestStorm boots 100 emulated machines at once, every one to its kernel
// and initrd, from minimal-server as full DHCP server (-range), from
// minimal-server as proxyDHCP beside dnsmasq handing out the addresses,
// and, as the reference, from dnsmasq alone (DHCP and TFTP), and logs the
// storms' wall times as ratios to dnsmasq's.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a storm of 100 machines; not in -short")
	}
	dnsmasq := testenv.NeedCommand(t, "dnsmasq")[0]
	root := stormTree(t)
	walls := map[string]time.Duration{}

	t.Run("minimal-server", func(t *testing.T) {
		s := stormSeg(t)
		start(t, s.srv.Command(t.Context(), minimalServer(t), "-iface", s.srvIf, "-range", stormFirst+"-"+stormLast, "-root", root, "-http", "10.79.0.1:8080"), "serving")
		walls[t.Name()] = storm(t, s, s.conn(t), root, stormMachines, 1)
	})

	t.Run("proxy", func(t *testing.T) {
		srv, dhcpNS, cli := testenv.NewNetNS(t), testenv.NewNetNS(t), testenv.NewNetNS(t)
		srvIf, cliA := testenv.Veth(t, srv, netip.MustParsePrefix("10.79.0.1/20"), cli, netip.MustParsePrefix("10.79.15.251/32"))
		dhcpIf, cliB := testenv.Veth(t, dhcpNS, netip.MustParsePrefix("10.79.0.2/20"), cli, netip.MustParsePrefix("10.79.15.252/32"))
		cli.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
		for _, ifc := range []string{cliA, cliB} {
			cli.MustRun(t, "ip", "addr", "flush", "dev", ifc)
			cli.MustRun(t, "ip", "link", "set", ifc, "master", "br0")
		}
		cli.MustRun(t, "ip", "addr", "add", "10.79.15.250/32", "dev", "br0")
		cli.MustRun(t, "ip", "link", "set", "br0", "up")
		s := &seg{srv: srv, cli: cli, srvIf: srvIf, cliIf: "br0", srvAddr: netip.MustParseAddr("10.79.0.1")}
		start(t, dhcpNS.Command(t.Context(), dnsmasq,
			"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
			"--interface="+dhcpIf, "--bind-interfaces", "--pid-file=",
			"--dhcp-range="+stormFirst+","+stormLast+","+stormMask+",1h",
			"--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"),
			"--no-ping", "--log-facility=-"), "started")
		start(t, srv.Command(t.Context(), minimalServer(t), "-iface", srvIf, "-proxy", "-root", root, "-http", "10.79.0.1:8080"), "serving")
		walls[t.Name()] = storm(t, s, s.conn(t), root, stormMachines, 2)
	})

	t.Run("dnsmasq", func(t *testing.T) {
		s := stormSeg(t)
		start(t, s.srv.Command(t.Context(), dnsmasq,
			"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
			"--interface="+s.srvIf, "--bind-interfaces", "--pid-file=",
			"--dhcp-range="+stormFirst+","+stormLast+","+stormMask+",1h",
			"--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"),
			"--no-ping", "--log-facility=-",
			// dnsmasq's default of 50 concurrent transfers would make
			// half the storm wait for retransmissions: raise it, so that
			// the reference is dnsmasq configured for a storm.
			"--enable-tftp", "--tftp-root="+root, "--tftp-max=1000",
			"--dhcp-match=set:bios,option:client-arch,0",
			"--dhcp-match=set:efi64,option:client-arch,7",
			"--dhcp-match=set:arm64,option:client-arch,11",
			"--dhcp-boot=tag:bios,pxelinux.0",
			"--dhcp-boot=tag:efi64,syslinux.efi",
			"--dhcp-boot=tag:arm64,grubnetaa64.efi"), "started")
		walls[t.Name()] = storm(t, s, s.conn(t), root, stormMachines, 3)
	})

	ref := walls["TestStorm/dnsmasq"]
	if ref == 0 {
		return
	}
	var b strings.Builder
	for _, name := range []string{"TestStorm/minimal-server", "TestStorm/proxy"} {
		if w := walls[name]; w > 0 {
			fmt.Fprintf(&b, " %s %.2f×", strings.TrimPrefix(name, "TestStorm/"), float64(w)/float64(ref))
		}
	}
	t.Logf("storm of %d, wall time as a ratio to dnsmasq's (%v):%s", stormMachines, ref.Round(time.Millisecond), b.String())
}
