package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// trixieGRUBNet is Debian 13's signed network GRUB, which .ci/trixie-grub
// fetches (not installs) into /var/cache/pxekit/trixie-grub, or into
// $PXEKIT_TRIXIE_GRUB_DIR. Unlike Debian 12's it has the http module, and
// its SBAT level (grub,7; grub.debian,5) is above what Debian 12's shim
// 16.1 revokes (grub,5), so that shim starts it.
func trixieGRUBNet(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PXEKIT_TRIXIE_GRUB_DIR")
	if dir == "" {
		dir = "/var/cache/pxekit/trixie-grub"
	}
	p := filepath.Join(dir, "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed")
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "Debian 13's signed network GRUB is missing: %v (run .ci/trixie-grub)", err)
	}
	return p
}

// TestSecureBootHTTPDebian12GRUB boots OVMF with Secure Boot enforcing
// by UEFI HTTP boot from an ISO image as TestBootPaths/secureboot-http-iso does, but with
// Debian 12's signed network GRUB as EFI/boot/grubx64.efi. The firmware
// accepts the image's shim, shim asks for its revocation files (a clean
// 404), fetches GRUB over HTTP and starts it; and that is as far as it
// gets: Debian 12's signed GRUB has the tftp module but no http one, and
// a signed GRUB loads no modules, so it cannot read its configuration
// from the HTTP server it came from (and GRUB 2.06 would not parse the
// port of "http,10.99.0.1:8080" either). The test pins the chain up to
// GRUB, the start-up warning that says HTTP boot clients stop at GRUB's
// prompt, and the report of the silent machine: stopped after the boot
// program (GRUB), without the Secure Boot hint, since nothing was
// refused. The boot over PXE (TestBootPaths/secureboot-pxe-*) goes on to the kernel.
func TestSecureBootHTTPDebian12GRUB(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	copyFile(t, debShimSigned, filepath.Join(src, "EFI", "boot", "bootx64.efi"))
	copyFile(t, debGRUBNet, filepath.Join(src, "EFI", "boot", "grubx64.efi"))
	iso := l.makeISO(src)
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-ra")
	l.requireNote("shim", "shim=EFI/boot/bootx64.efi")
	l.requireNote("secure-boot", "file=EFI/boot/grubx64.efi", "role=GRUB loaded by http", "problem~has no http module")
	l.success = "Welcome to GRUB!"
	r := l.boot(uefiSecureHTTP, bootTimeout)
	if strings.Contains(r.serial, "Access Denied") || strings.Contains(r.serial, "Security Violation") {
		t.Errorf("the firmware refused a program:\n%s", tail(r.serial, 3000))
	}
	m := l.machine(timeline.StageBootProgram)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, labHTTP+"/EFI/boot/bootx64.efi")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoHTTP, "EFI/boot/bootx64.efi")
	// shim's optional files (revocations_sbat.efi, …) are a clean 404.
	requireMetric(t, l.metrics(), "pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "not-found"}, 1)
	m = l.stalled(timeline.DefaultStallAfter + 30*time.Second)
	if m.Program != "EFI/boot/grubx64.efi" || m.Stall.File != "EFI/boot/grubx64.efi" || m.Stall.Message != timeline.StallMessage || m.Stall.Hint != "" {
		t.Errorf("machine %s: program %q, stall %+v; want stopped after the boot program EFI/boot/grubx64.efi, no Secure Boot hint", m.MAC, m.Program, *m.Stall)
	}
}
