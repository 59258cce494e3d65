package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecureBootHTTPFromISO boots OVMF with Secure Boot enforcing by UEFI
// HTTP boot from an ISO image laid out as distribution images are: shim
// as EFI/boot/bootx64.efi, Debian's signed network GRUB beside it as
// grubx64.efi. The client is offered the URL of the image's shim (not an
// unsigned iPXE); the firmware accepts it, shim asks for its revocation
// files (a clean 404), fetches GRUB over HTTP and starts it.
//
// That is as far as Debian 12 gets: its signed GRUB has the tftp module
// but no http one, and a signed GRUB loads no modules, so it cannot read
// its configuration from the HTTP server it came from (and GRUB 2.06
// would not parse the port of "http,10.99.0.1:8080" either). The test
// pins both halves: the chain up to GRUB, and the start-up warning that
// says HTTP boot clients stop at GRUB's prompt. The boot over PXE
// (TestSecureBootPXE) goes on to the kernel.
func TestSecureBootHTTPFromISO(t *testing.T) {
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
	d := l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-ra")
	requireLog(t, d, "secure boot", "shim=EFI/boot/bootx64.efi")
	requireLog(t, d, "level=WARN", "secure boot", `role="GRUB loaded by http"`, "file=EFI/boot/grubx64.efi", "has no http module")
	l.success = "Welcome to GRUB!"
	r := l.boot(uefiSecureHTTP, bootTimeout)
	if strings.Contains(r.serial, "Access Denied") || strings.Contains(r.serial, "Security Violation") {
		t.Errorf("the firmware refused a program:\n%s", tail(r.serial, 3000))
	}
	requireLog(t, d, `msg="dhcp: reply"`, "file=http://"+labServerIP+":8080/EFI/boot/bootx64.efi")
	requireLog(t, d, "msg=http", "file=EFI/boot/bootx64.efi", "status=200")
	requireLog(t, d, "msg=http", "file=EFI/boot/revocations_sbat.efi", "status=404")
	requireLog(t, d, "msg=http", "file=EFI/boot/grubx64.efi", "status=200")
}
