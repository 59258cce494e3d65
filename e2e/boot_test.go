package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
)

// bootTimeout bounds one QEMU boot; under TCG a BIOS boot to the marker
// takes 15–30 s and a UEFI one 30–60 s on an idle machine.
const bootTimeout = 5 * time.Minute

// Menus of the ISO-like tree, laid out as Debian's installer images are:
// isolinux/isolinux.cfg includes menu.cfg from its own directory, which
// names the kernel and initrd by absolute paths.
const (
	isolinuxCfg = `# isolinux.cfg written by the pxekit e2e test
path
include menu.cfg
default marker
prompt 0
timeout 1
`
	isolinuxMenuCfg = `menu title pxekit e2e
label marker
	menu label ^Boot the marker initrd
	kernel /install/vmlinuz
	append initrd=/install/initrd.gz ` + kernelCmdline + `
label other
	menu label Something else
	kernel /install/vmlinuz
	append initrd=/install/initrd.gz panic=1
`
)

// isoTree fills dir the way the ISO of TestBootPaths/bios-pxelinux-iso is laid out: Debian's
// pxelinux.0 and ldlinux.c32 at the root, kernel and marker initrd under
// install/, the menu under isolinux/, and no pxelinux.cfg: the server must
// generate it from isolinux.cfg.
func (l *lab) isoTree(dir string) {
	t := l.t
	copyFile(t, debPxelinux, filepath.Join(dir, "pxelinux.0"))
	copyFile(t, debLdlinux, filepath.Join(dir, "ldlinux.c32"))
	l.kernelAndInitrd(filepath.Join(dir, "install"))
	writeFile(t, filepath.Join(dir, "isolinux", "isolinux.cfg"), isolinuxCfg)
	writeFile(t, filepath.Join(dir, "isolinux", "menu.cfg"), isolinuxMenuCfg)
}

// makeISO writes the tree of dir into an ISO 9660 image with Rock Ridge
// and Joliet, made by xorriso, and returns its path.
func (l *lab) makeISO(dir string) string {
	t := l.t
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	iso := filepath.Join(l.dir, "tree.iso")
	out, err := exec.Command(xorriso, "-as", "mkisofs", "-R", "-J", "-V", "PXEKIT_E2E", "-o", iso, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	return iso
}

// TestFullDHCPLeaseFile: pxekit as full DHCP server with -range
// and -leases. After the boot the lease file holds the client's lease.
// After a restart of the server it still does, and the restarted server
// knows it: a second machine booting then gets another address.
func TestFullDHCPLeaseFile(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	leases := filepath.Join(l.dir, "leases.txt")
	args := []string{"-range", labFirst + "-" + labLast, "-leases", leases, "-root", root, "-bios-boot", "pxelinux.0", "-ra"}

	d := l.pxekit(args...)
	l.boot(biosIPXE, bootTimeout)
	requireMetricIs(t, l.metrics(), "pxekit_dhcp_pool_addresses", map[string]string{"pool": labFirst + "-" + labLast, "state": "bound"}, 1)
	d.stop()
	first := leaseOf(t, leases, labMAC)

	d2 := l.pxekit(args...)
	if got := leaseOf(t, leases, labMAC); got != first {
		t.Fatalf("after restart the lease file gives %s address %s, want %s", labMAC, got, first)
	}
	const otherMAC = "52:54:00:12:34:57"
	l.mac = otherMAC
	l.boot(biosIPXE, bootTimeout)
	requireMetricIs(t, l.metrics(), "pxekit_dhcp_pool_addresses", map[string]string{"pool": labFirst + "-" + labLast, "state": "bound"}, 2)
	d2.stop()
	if got := leaseOf(t, leases, labMAC); got != first {
		t.Errorf("after the second boot %s has address %s, want %s still", labMAC, got, first)
	}
	if got := leaseOf(t, leases, otherMAC); got == first {
		t.Errorf("the restarted server gave %s to %s too: it forgot the lease of %s", got, otherMAC, labMAC)
	}
}

// requireDnsmasqLease fails the test unless dnsmasq's lease file (lines
// "EXPIRY MAC ADDR HOSTNAME CLIENTID") has a lease for mac in the lab's
// range.
func requireDnsmasqLease(t *testing.T, file, mac string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("dnsmasq lease file: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.EqualFold(f[1], mac) && strings.HasPrefix(f[2], "10.99.0.") {
			return
		}
	}
	t.Errorf("dnsmasq lease file has no lease for %s:\n%s", mac, data)
}

// leaseOf returns the address the lease file gives mac, read with
// dhcp.ParseLeaseFile, failing the test when it has none or several.
func leaseOf(t *testing.T, file, mac string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("lease file: %v", err)
	}
	leases, err := dhcp.ParseLeaseFile(data)
	if err != nil {
		t.Fatalf("lease file: %v\n%s", err, data)
	}
	var addrs []string
	for _, l := range leases {
		if strings.EqualFold(l.MAC.String(), mac) {
			addrs = append(addrs, l.Addr.String())
		}
	}
	if len(addrs) != 1 {
		t.Fatalf("lease file has %d leases for %s, want 1:\n%s", len(addrs), mac, data)
	}
	return addrs[0]
}
