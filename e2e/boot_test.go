package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// requireLog fails the test unless the server's output has a line that
// contains every one of subs.
func requireLog(t *testing.T, d *daemon, subs ...string) {
	t.Helper()
	for _, line := range strings.Split(d.out.String(), "\n") {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return
		}
	}
	t.Errorf("server log has no line with all of %q", subs)
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
	d := l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-bios-boot", "pxelinux.0", "-ra")
	l.boot(biosIPXE, bootTimeout)
	requireLog(t, d, "generated file", "proto=tftp", "pxelinux.cfg/")
	requireLog(t, d, "file=install/vmlinuz")
}
