package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
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

// isoTree fills dir the way the ISO of path 2 is laid out: Debian's
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

// TestBIOSPXELinux is path 1: QEMU's iPXE ROM gets an address from pxekit
// as full DHCP server, loads Debian's pxelinux.0 and ldlinux.c32 over TFTP,
// then pxelinux.cfg/default, which the server renders from the tree's
// isolinux.cfg with bootmenu, then the kernel and the marker initrd.
func TestBIOSPXELinux(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	if os.Getenv("PXEKIT_E2E_PCAP") != "" {
		l.start("tcpdump", "-i", labBridge, "-n", "-l", "-e", "icmp6 or port 67 or port 68")
	}
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-bios-boot", "pxelinux.0", "-ra")
	l.boot(biosIPXE, bootTimeout)
	m := l.machine(timeline.StageInitrd)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "pxelinux.0")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoTFTP, "pxelinux.0")
	requireStep(t, m, timeline.StageMenu, events.ProtoTFTP, "pxelinux.cfg/")
	requireStep(t, m, timeline.StageKernel, events.ProtoTFTP, "install/vmlinuz")
	requireStep(t, m, timeline.StageInitrd, events.ProtoTFTP, "install/initrd.gz")
	if m.Firmware != "ipxe" || !m.Addr.IsValid() {
		t.Errorf("machine firmware %q address %v, want ipxe and the leased address", m.Firmware, m.Addr)
	}
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

// TestBIOSPXELinuxFromISO is path 2: the same boot as TestBIOSPXELinux,
// with every file (pxelinux.0, ldlinux.c32, the menu, kernel and initrd)
// read out of an ISO image made by xorriso, which is never mounted.
func TestBIOSPXELinuxFromISO(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	iso := l.makeISO(src)
	if err := os.RemoveAll(src); err != nil { // nothing but the image remains
		t.Fatal(err)
	}
	l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-bios-boot", "pxelinux.0", "-ra")
	l.boot(biosIPXE, bootTimeout)
	m := l.machine(timeline.StageKernel)
	requireStep(t, m, timeline.StageMenu, events.ProtoTFTP, "pxelinux.cfg/")
	requireStep(t, m, timeline.StageKernel, events.ProtoTFTP, "install/vmlinuz")
}

// TestIPXEScriptHTTP is path 3: QEMU's iPXE ROM is told to load the iPXE
// script that the server renders from isolinux.cfg with bootmenu, over
// HTTP, and loads kernel and initrd over HTTP too.
func TestIPXEScriptHTTP(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", ":8080", "-ra")
	l.boot(biosIPXE, bootTimeout)
	// The boot as the status page shows it, and as /_pxekit/metrics counts it.
	m := l.machine(timeline.StageKernel)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "http://"+labServerIP+":8080/boot.ipxe")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "install/vmlinuz")
	requireStep(t, m, timeline.StageInitrd, events.ProtoHTTP, "install/initrd.gz")
	if m.Bytes == 0 || m.LastError != "" {
		t.Errorf("machine bytes %d, last error %q", m.Bytes, m.LastError)
	}
	fams := l.metrics()
	requireMetric(t, fams, "pxekit_dhcp_replies_total", map[string]string{"type": "ACK", "firmware": "ipxe"}, 1)
	requireMetric(t, fams, "pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "ok"}, 3)
	requireMetric(t, fams, "pxekit_transfer_bytes_total", map[string]string{"proto": "http"}, float64(m.Bytes))
	requireMetric(t, fams, "pxekit_transfer_duration_seconds_count", map[string]string{"proto": "http"}, 3)
	requireMetric(t, fams, "pxekit_dhcp_pool_addresses", map[string]string{"state": "bound"}, 1)
	l.requireBrowserShows(timeline.StageKernel)
}

// TestUEFIGRUB is path 4: OVMF boots over PXE (TFTP) into the signed
// netboot GRUB of Debian's installer (grubx64.efi), which reads the GRUB
// configuration that the server renders from isolinux.cfg under GRUB's
// prefix (/debian-installer/amd64/grub/grub.cfg), then kernel and initrd.
func TestUEFIGRUB(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debDIGrubx64, filepath.Join(root, "grubx64.efi"))
	// No HTTP for the clients (GRUB loads everything over TFTP); the
	// status pages on a port of their own.
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", "", "-status", ":8080", "-ra")
	l.boot(uefiOVMF, bootTimeout)
	m := l.machine(timeline.StageInitrd)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "grubx64.efi")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoTFTP, "grubx64.efi")
	// OVMF asks for blksize 1468 and windowsize 4 (RFC 7440), after a
	// tsize probe it aborts itself.
	requireTransfer(t, m, events.ProtoTFTP, "grubx64.efi", "aborted")
	if x := requireTransfer(t, m, events.ProtoTFTP, "grubx64.efi", "ok"); x.BlockSize != 1468 || x.WindowSize != 4 {
		t.Errorf("grubx64.efi sent with blksize %d windowsize %d, want OVMF's 1468 and 4", x.BlockSize, x.WindowSize)
	}
	// The configuration generated under GRUB's prefix.
	requireStep(t, m, timeline.StageMenu, events.ProtoTFTP, "debian-installer/amd64/grub/grub.cfg")
	requireStep(t, m, timeline.StageKernel, events.ProtoTFTP, "install/vmlinuz")
	requireStep(t, m, timeline.StageInitrd, events.ProtoTFTP, "install/initrd.gz")
}

// TestProxyDHCPBesideDnsmasq is path 5: dnsmasq, in a namespace of its own
// joined to the bridge, hands out addresses without any boot option;
// pxekit answers as proxyDHCP, serving an ISO image as the README's
// quickstart does, and the client boots.
func TestProxyDHCPBesideDnsmasq(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	iso := l.makeISO(src)

	other := testenv.NewNetNS(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%100000)
	inLab, inOther := "vl"+id, "vo"+id
	if out, err := exec.Command("ip", "link", "add", inLab, "netns", l.ns.Name, "type", "veth", "peer", "name", inOther, "netns", other.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth: %v: %s", err, out)
	}
	l.ns.MustRun(t, "ip", "link", "set", inLab, "master", labBridge)
	l.ns.MustRun(t, "ip", "link", "set", inLab, "up")
	other.MustRun(t, "ip", "addr", "add", "10.99.0.2/24", "dev", inOther)
	other.MustRun(t, "ip", "link", "set", inOther, "up")
	dm := l.dnsmasq(other, inOther, "", "")

	l.pxekit("-proxy", "-iso", iso, "-ra")
	l.boot(biosIPXE, bootTimeout)
	// The address came from dnsmasq (its lease file), the boot from
	// pxekit as proxyDHCP.
	dm.stop()
	requireDnsmasqLease(t, filepath.Join(l.dir, "dnsmasq.leases"), labMAC)
	m := l.machine(timeline.StageInitrd)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "http://"+labServerIP+":8080/boot.ipxe")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "install/vmlinuz")
	if x := requireTransfer(t, m, events.ProtoHTTP, "install/vmlinuz", "ok"); x.Status != 200 {
		t.Errorf("install/vmlinuz: HTTP status %d, want 200", x.Status)
	}
}

// TestFullDHCPLeaseFile is path 6: pxekit as full DHCP server with -range
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

// TestUEFIHTTPBoot is path 7: OVMF with PXE turned off tries UEFI HTTP
// boot at once; the server answers with the URL of Debian's iPXE EFI build
// (snponly.efi), which asks again as iPXE, gets the iPXE script and loads
// kernel and initrd over HTTP (with initrd=<name>, which the 2019 iPXE in
// Debian needs for Linux's EFI stub).
func TestUEFIHTTPBoot(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debSnponly, filepath.Join(root, "snponly.efi"))
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", ":8080", "-ra")
	l.boot(uefiHTTP, bootTimeout)
	m := l.machine(timeline.StageKernel)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "http://"+labServerIP+":8080/snponly.efi")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoHTTP, "snponly.efi")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "install/vmlinuz")
}

// TestUEFIFromISO boots OVMF over PXE from an ISO image that, like most,
// has no EFI boot program the server knows: it gets Debian's iPXE EFI
// build from this machine over TFTP, which then loads the iPXE script
// rendered from the image's isolinux.cfg, and kernel and initrd out of
// the image over HTTP.
func TestUEFIFromISO(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	iso := l.makeISO(src)
	l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-ra")
	l.boot(uefiOVMF, bootTimeout)
	m := l.machine(timeline.StageKernel)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "snponly.efi")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoTFTP, "snponly.efi")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "install/vmlinuz")
}
