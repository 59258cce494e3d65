package e2e

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// The v6 segment of the IPv6 tests (issue 16): the bridge holds
// labServerIP6 in labPrefix6 (a documentation prefix, RFC 3849) and, in
// newLab6, no IPv4 address at all, so that a boot that reaches the marker
// went over IPv6 from the first DHCP message to the initrd.
const (
	labServerIP6 = "2001:db8:99::1"
	labPrefix6   = "2001:db8:99::/64"
	// labLinkLocal6 is the bridge's link-local address when it has none.
	labLinkLocal6 = "fe80::99:1"
)

// needIPv6Server returns the server binary, which must have stateful
// DHCPv6 (-ipv6-prefix).
func needIPv6Server(t *testing.T) string {
	t.Helper()
	bin := serverBinary(t)
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if !strings.Contains(string(out), "-ipv6-prefix") {
		t.Fatalf("minimal-server -h shows no -ipv6-prefix:\n%s", out)
	}
	return bin
}

// ipv6Flags are the minimal-server flags of a stateful DHCPv6 server on
// the lab's v6 prefix (issue 16: -ipv6 stateless|stateful, -ipv6-prefix).
var ipv6Flags = []string{"-ipv6", "stateful", "-ipv6-prefix", labPrefix6}

// newLab6 makes a lab whose bridge has only IPv6 addresses: the link-local
// one, usable at once (no duplicate address detection in the namespace),
// and labServerIP6. It removes the IPv4 address newLab gives the bridge.
func newLab6(t *testing.T) *lab {
	t.Helper()
	l := newLab(t)
	l.ns.MustRun(t, "ip", "addr", "flush", "dev", labBridge)
	l.addIPv6()
	l.statusBase = "http://[" + labServerIP6 + "]:8080"
	return l
}

// addIPv6 gives the lab bridge labServerIP6 beside what it has.
func (l *lab) addIPv6() {
	t := l.t
	for _, k := range []string{"all", "default", labBridge} {
		l.ns.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf."+k+".accept_dad=0")
		l.ns.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf."+k+".disable_ipv6=0")
	}
	l.ns.MustRun(t, "ip", "-6", "addr", "add", labServerIP6+"/64", "dev", labBridge, "nodad")
	// A link-local address of its own: newLab6's flush removed the
	// bridge's, and the kernel makes none again while the bridge is
	// up. Without one there is no fe80::/64 route on the bridge, and
	// the DHCPv6 replies to the client's link-local address fail with
	// "network is unreachable"; router advertisements need one as
	// their source (RFC 4861 §4.2).
	if out := l.ns.MustRun(t, "ip", "-6", "addr", "show", "dev", labBridge, "scope", "link"); !strings.Contains(out, "fe80") {
		l.ns.MustRun(t, "ip", "-6", "addr", "add", labLinkLocal6+"/64", "dev", labBridge, "nodad")
	}
	// The bridge has no carrier (and so no link-local address) until
	// QEMU opens the tap; the global address is usable at once.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := l.ns.MustRun(t, "ip", "-6", "addr", "show", "dev", labBridge)
		if strings.Contains(out, labServerIP6) && !strings.Contains(out, "tentative") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge addresses not ready:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// capture6 runs tcpdump on the bridge for the DHCPv6 and router discovery
// traffic when PXEKIT_E2E_PCAP is set; its output joins the test log on
// failure.
func (l *lab) capture6() {
	if os.Getenv("PXEKIT_E2E_PCAP") != "" {
		l.start("tcpdump", "-i", labBridge, "-n", "-l", "-e", "icmp6 or udp port 546 or udp port 547 or udp port 69")
	}
}

// machine6 is l.machine for a machine that booted over IPv6: the
// timeline knows it by its v6 address only (the DHCPv6 server reports no
// events), in the lab's prefix.
func (l *lab) machine6(stage timeline.Stage) timeline.Machine {
	l.t.Helper()
	p := netip.MustParsePrefix(labPrefix6)
	return l.machineWhere(stage, "address in "+labPrefix6, func(m timeline.Machine) bool { return p.Contains(m.Addr) })
}

// requireNoIPv4 fails the test when the lab namespace has any IPv4
// address but loopback's: then the boot could not have used IPv4.
func (l *lab) requireNoIPv4() {
	out := l.ns.MustRun(l.t, "ip", "-4", "-o", "addr", "show")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" && !strings.Contains(line, " lo ") {
			l.t.Fatalf("lab namespace has an IPv4 address; the boot would not prove IPv6:\n%s", out)
		}
	}
}

// TestIPv6Lab checks the v6-only segment itself, without the DHCPv6
// server: no IPv4 address, the server's v6 addresses usable, and a TFTP
// client reaching minimal-server's TFTP over IPv6 on the bridge.
func TestIPv6Lab(t *testing.T) {
	t.Parallel()
	l := newLab6(t)
	l.requireNoIPv4()
	root := l.mkdir("tree")
	writeFile(t, filepath.Join(root, "hello.txt"), "over v6\n")
	// The v4 side of the server has nothing to answer on this bridge;
	// proxyDHCP keeps it quiet, TFTP listens on every address.
	l.pxekit("-proxy", "-root", root, "-http", "")
	curl := testenv.NeedCommand(t, "curl")[0]
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := l.ns.Command(ctx, curl, "-sS", "-g", "tftp://["+labServerIP6+"]/hello.txt").CombinedOutput()
	if err != nil || string(out) != "over v6\n" {
		t.Fatalf("curl tftp://[%s]/hello.txt = %q, %v; want the file", labServerIP6, out, err)
	}
}

// TestIPv6DualStackBootsOnce: v4 (full DHCP) and v6 (stateless DHCPv6
// beside SLAAC) both answer on one segment; OVMF with every boot option on
// boots once, from whichever answers first: the marker appears once and
// the boot program is sent once.
func TestIPv6DualStackBootsOnce(t *testing.T) {
	t.Parallel()
	needIPv6Server(t)
	l := newLab(t)
	l.addIPv6()
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debDIGrubx64, filepath.Join(root, "grubx64.efi"))
	l.capture6()
	l.pxekit("-range", labFirst+"-"+labLast, "-ipv6", "stateless", "-root", root, "-http", "", "-status", ":8080", "-ra")
	// Twice bootTimeout: with every boot option on, the marker came after
	// 83 to 278 s of 300 under TCG on a loaded machine.
	r := l.boot(uefiOVMF, 2*bootTimeout)
	// The marker initrd powers the machine off; give a second boot the
	// time a reboot would take to show.
	time.Sleep(5 * time.Second)
	if n := strings.Count(r.serial, l.marker); n != 1 {
		t.Errorf("marker on the console %d times, want 1", n)
	}
	// Over v4 the machine is its MAC, over v6 its address (the DHCPv6
	// server reports no events): count in every machine.
	st, body := l.status()
	n := 0
	for _, m := range st.Machines {
		n += len(transfers(m, events.ProtoTFTP, "grubx64.efi", "ok"))
	}
	if n != 1 {
		t.Errorf("grubx64.efi sent %d times, want 1:\n%s", n, body)
	}
}
