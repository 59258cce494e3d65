package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// efiGRUBCfg is the configuration embedded in the standalone GRUB of
// efiISO: it finds the CD it was booted from by a file on it, and boots
// the kernel and marker initrd from there.
const efiGRUBCfg = `search --no-floppy --file /install/vmlinuz --set=root
echo "` + grubFound + `$root"
linux /install/vmlinuz ` + kernelCmdline + `
initrd /install/initrd.gz
boot
`

// grubFound starts the line GRUB writes when it has found the CD.
const grubFound = "pxekit e2e: GRUB found the CD at "

// efiISO makes an ISO image, named name in l.dir, that boots on UEFI from
// its El Torito EFI boot image: a FAT image (made with mtools) holding
// EFI/BOOT/BOOTX64.EFI, a standalone GRUB (Debian's grub-efi-amd64-bin)
// with efiGRUBCfg inside. Kernel and marker initrd lie under install/.
func (l *lab) efiISO(name string) string {
	t := l.t
	tools := testenv.NeedCommand(t, "grub-mkstandalone", "mformat", "mmd", "mcopy", "xorriso")
	mkstandalone, mformat, mmd, mcopy, xorriso := tools[0], tools[1], tools[2], tools[3], tools[4]
	if _, err := os.Stat("/usr/lib/grub/x86_64-efi/linux.mod"); err != nil {
		testenv.Unavailable(t, "GRUB's x86_64-efi modules are missing (install grub-efi-amd64-bin)")
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
	}
	work := l.mkdir("efi-iso-work")
	cfg := filepath.Join(work, "grub.cfg")
	writeFile(t, cfg, efiGRUBCfg)
	grub := filepath.Join(work, "BOOTX64.EFI")
	// Only the modules the configuration needs (and theirs): 0.6 MB
	// instead of 3 MB with all of them.
	run(mkstandalone, "-O", "x86_64-efi", "-o", grub,
		"--install-modules=normal search search_fs_file iso9660 linux echo",
		"--locales=", "--fonts=", "--themes=",
		"boot/grub/grub.cfg="+cfg)

	// The EFI system partition: GRUB plus room for the FAT itself.
	st, err := os.Stat(grub)
	if err != nil {
		t.Fatal(err)
	}
	src := l.mkdir("efi-iso-tree")
	esp := filepath.Join(src, "boot", "efi.img")
	sectors := (st.Size()+511)/512 + 256
	if err := os.MkdirAll(filepath.Dir(esp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(esp, make([]byte, sectors*512), 0o644); err != nil {
		t.Fatal(err)
	}
	run(mformat, "-i", esp, "-T", strconv.FormatInt(sectors, 10), "-h", "1", "-s", "32", "-v", "PXEKIT_ESP", "::")
	run(mmd, "-i", esp, "::/EFI", "::/EFI/BOOT")
	run(mcopy, "-i", esp, grub, "::/EFI/BOOT/BOOTX64.EFI")

	l.kernelAndInitrd(filepath.Join(src, "install"))
	iso := filepath.Join(l.dir, name)
	run(xorriso, "-as", "mkisofs", "-R", "-J", "-V", "PXEKIT_HTTPISO",
		"-e", "boot/efi.img", "-no-emul-boot", "-o", iso, src)
	if err := os.RemoveAll(src); err != nil { // nothing but the image remains
		t.Fatal(err)
	}
	return iso
}

// TestHTTPBootImageChecks starts minimal-server -http-boot-image with an
// image that has no El Torito boot image at all: it serves, but warns
// that UEFI HTTP boot clients cannot boot it. Without -iso the flag is
// refused.
func TestHTTPBootImageChecks(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	iso := l.makeISO(src)
	l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-http", ":8080", "-http-boot-image")
	l.requireNote("no-efi-boot-image", "image="+iso)
	l.requireNote("serving", "http_boot=http://:8080/tree.iso")

	out, err := l.ns.Command(t.Context(), serverBinary(t), "-iface", labBridge, "-root", src, "-http-boot-image").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-http-boot-image needs -iso") {
		t.Errorf("-http-boot-image with -root: err %v, output:\n%s\nwant a refusal naming -iso", err, out)
	}
}
