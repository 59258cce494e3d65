//go:build linux

package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestSmoke runs a storm of 5 machines against minimal-server (full DHCP)
// in a pair of namespaces and checks the summary: all 5 reach the
// kernel and initrd, and -pid reports the server's CPU time and RSS.
func TestSmoke(t *testing.T) {
	srv, cli := testenv.NewNetNS(t), testenv.NewNetNS(t)
	srvIf, cliIf := testenv.Veth(t, srv, netip.MustParsePrefix("10.78.0.1/24"), cli, netip.MustParsePrefix("10.78.0.250/32"))
	dir := t.TempDir()
	for _, pkg := range []string{"../minimal-server", "."} {
		out, err := exec.Command("go", "build", "-o", dir, pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "pxelinux.cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "syslinux.efi"), make([]byte, 100_000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "pxelinux.cfg", "default"), []byte("DEFAULT x\nLABEL x\n  KERNEL vmlinuz\n  INITRD initrd.img\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"vmlinuz": 300_000, "initrd.img": 500_000} {
		if err := os.WriteFile(filepath.Join(root, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	server := srv.Command(t.Context(), filepath.Join(dir, "minimal-server"), "-iface", srvIf, "-range", "10.78.0.100-10.78.0.199", "-root", root, "-http", "")
	testenv.Start(t, server, "minimal-server")
	time.Sleep(time.Second) // no readiness line to wait for here; the storm retransmits anyway
	// ip netns exec forks minimal-server as its own pid; find it.
	pid := 0
	for range 50 {
		out, _ := exec.Command("ip", "netns", "pids", srv.Name).Output()
		if f := strings.Fields(string(out)); len(f) > 0 {
			pid, _ = strconv.Atoi(f[0])
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := cli.Command(t.Context(), filepath.Join(dir, "pxestorm"), "-iface", cliIf, "-n", "5", "-profile", "ovmf-pxe", "-scale", "0.25", "-timeout", "30s", "-pid", strconv.Itoa(pid)).CombinedOutput()
	t.Logf("pxestorm:\n%s", out)
	if err != nil {
		t.Fatalf("pxestorm: %v", err)
	}
	for _, re := range []string{
		`5 machines, 5 reached "loaded", 0 failed`,
		`(?m)^boot program\s+5 `,
		`(?m)^kernel\+initrd\s+5 `,
		`server pid \d+: CPU [0-9.]+ s during the storm, peak RSS [0-9.]+ MiB`,
		`(?m)^adding address\s+5 `,
		`(?m)^pxestorm: CPU [0-9.]+ s during the storm; machine busy \d+%`,
	} {
		if !regexp.MustCompile(re).Match(out) {
			t.Errorf("pxestorm output does not match %q", re)
		}
	}
	// The leased addresses (added over netlink while the machines booted)
	// are gone again; the interface's own /32 stays.
	addrs, err := cli.Command(t.Context(), "ip", "-4", "-o", "addr", "show", "dev", cliIf).CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr show: %v: %s", err, addrs)
	}
	if got := strings.Count(string(addrs), " inet "); got != 1 {
		t.Errorf("after the storm %s has %d IPv4 addresses, want only its own:\n%s", cliIf, got, addrs)
	}
}
