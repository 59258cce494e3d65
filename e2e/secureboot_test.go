package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Signed boot programs from Debian's shim-signed and
// grub-efi-amd64-signed packages. Debian's grubnetx64.efi.signed has
// "/grub" built in as its prefix, so it reads /grub/grub.cfg (or
// /grub/x86_64-efi/grub.cfg) from the server it came from.
const (
	debShimSigned = "/usr/lib/shim/shimx64.efi.signed"
	debGRUBNet    = "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
)

// secureBootLine is what Debian's kernel prints when the firmware booted
// it with Secure Boot enforcing.
const secureBootLine = "Secure boot enabled"

// requireSecureBoot fails the test unless the kernel said that Secure
// Boot was on.
func requireSecureBoot(t *testing.T, r qemuResult) {
	t.Helper()
	if !strings.Contains(r.serial, secureBootLine) {
		t.Errorf("the kernel did not print %q: Secure Boot was not enforcing\n--- serial console (last 3000 bytes):\n%s", secureBootLine, tail(r.serial, 3000))
	}
}

// TestSecureBootPXE boots OVMF with Secure Boot enforcing and
// Microsoft's keys over PXE (TFTP) from a tree that keeps Debian's signed
// shim as shimx64.efi and its signed network GRUB as grubnetx64.efi: the
// client is offered the shim, which asks for grubx64.efi beside itself
// and gets grubnetx64.efi under that name; GRUB reads the configuration
// the server generates from isolinux.cfg under its built-in prefix
// (/grub), then loads Debian's signed kernel and the marker initrd.
func TestSecureBootPXE(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debShimSigned, filepath.Join(root, "shimx64.efi"))
	copyFile(t, debGRUBNet, filepath.Join(root, "grubnetx64.efi"))
	d := l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", "", "-ra")
	requireLog(t, d, "secure boot", "shim=shimx64.efi")
	r := l.boot(uefiSecure, bootTimeout)
	requireSecureBoot(t, r)
	requireLog(t, d, `msg="dhcp: reply"`, "file=shimx64.efi")
	requireLog(t, d, "transfer done", "file=shimx64.efi", "outcome=ok")
	requireLog(t, d, "transfer done", "file=grubx64.efi", "outcome=ok")
	requireLog(t, d, "generated file", "proto=tftp", "grub/grub.cfg")
	requireLog(t, d, "file=install/vmlinuz", "outcome=ok")
	if strings.Contains(d.out.String(), "cannot boot this") {
		t.Errorf("the server warned about a chain that booted with Secure Boot on")
	}
}

// TestSecureBootWarnsUnsigned is the negative: a tree whose UEFI boot
// program is unsigned (Debian's iPXE build, as the server offers where
// the tree has no EFI program of its own) is what the server warns
// about at start-up, for PXE and for HTTP boot, naming the program; and
// OVMF with Secure Boot on fetches it and refuses it ("Access Denied").
func TestSecureBootWarnsUnsigned(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debSnponly, filepath.Join(root, "snponly.efi"))
	d := l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", ":8080")
	requireLog(t, d, "level=WARN", "secure boot", "file=snponly.efi", `role="x86-64 UEFI boot program, UEFI HTTP boot program"`, "unsigned")
	// And the same firmware as TestSecureBootPXE refuses it: Secure Boot
	// is on. The boot ends at OVMF's refusal, after the transfer.
	l.success = ": Access Denied"
	r := l.boot(uefiSecure, 2*time.Minute)
	if !strings.Contains(r.serial, `"UEFI PXEv4 (MAC:525400123456)"`) {
		t.Errorf("the refusal is not of the PXE boot option:\n%s", tail(r.serial, 2000))
	}
	requireLog(t, d, "transfer done", "file=snponly.efi", "outcome=ok")
}
