package e2e

import (
	"testing"
	"time"
)

// TestReferenceDnsmasqBIOS boots the BIOS path against dnsmasq (DHCP and
// TFTP) serving Debian's pxelinux. It proves the harness itself (namespace,
// bridge, tap, QEMU, initrd, marker) independently of pxekit, and is the
// reference that bench/boot.sh compares pxekit with.
func TestReferenceDnsmasqBIOS(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tftp")
	l.pxelinuxTree(root, true)
	l.dnsmasq(l.ns, labBridge, root, "pxelinux.0")
	l.boot(biosIPXE, 4*time.Minute)
}
