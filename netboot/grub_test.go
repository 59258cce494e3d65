package netboot

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/bootmenu"
)

// ubuntuLiveServer lays out an Ubuntu 22.04 live-server ISO (casper) as
// it is: no isolinux, GRUB for BIOS (boot/grub/i386-pc) and EFI
// (EFI/boot), the real boot/grub/grub.cfg.
func ubuntuLiveServer(t *testing.T) fstest.MapFS {
	cfg, err := os.ReadFile("../bootmenu/testdata/grub/ubuntu/ubuntu-22.04-live-server.grub.cfg")
	if err != nil {
		t.Fatal(err)
	}
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		".disk/info":                                          f("Ubuntu-Server 22.04.4 LTS \"Jammy Jellyfish\" - Release amd64 (20240216)"),
		".disk/casper-uuid-generic":                           f("uuid"),
		"boot/grub/grub.cfg":                                  {Data: cfg},
		"boot/grub/loopback.cfg":                              f("menuentry \"Try or Install Ubuntu Server\" {\n\tlinux\t/casper/vmlinuz iso-scan/filename=${iso_path} ---\n\tinitrd\t/casper/initrd\n}\n"),
		"boot/grub/i386-pc/eltorito.img":                      f("grub"),
		"boot/grub/x86_64-efi/grub.cfg":                       f("insmod part_acorn\n"),
		"boot/memtest86+.bin":                                 f("memtest"),
		"EFI/boot/bootx64.efi":                                f("shim"),
		"EFI/boot/grubx64.efi":                                f("grub"),
		"casper/vmlinuz":                                      f("kernel"),
		"casper/initrd":                                       f("initrd"),
		"casper/hwe-vmlinuz":                                  f("hwe kernel"),
		"casper/hwe-initrd":                                   f("hwe initrd"),
		"casper/ubuntu-server-minimal.squashfs":               f("root"),
		"casper/ubuntu-server-minimal.ubuntu-server.squashfs": f("layer"),
		"casper/ubuntu-server-minimal.ubuntu-server.installer.squashfs": f("installer"),
		"casper/install-sources.yaml":                                   f("- default: true\n"),
		"dists/jammy/Release":                                           f("Suite: jammy"),
	}
}

func TestGRUBOnlyImage(t *testing.T) {
	tree := ubuntuLiveServer(t)
	b, err := New(tree, &Options{HTTPBase: "http://10.0.0.1:8080/", Image: "ubuntu.iso"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Config() != "boot/grub/grub.cfg" {
		t.Errorf("Config() = %q, want boot/grub/grub.cfg", b.Config())
	}
	if f := b.Family(); f == nil || f.Name != FamilyCasper {
		t.Fatalf("Family() = %v, want casper", f)
	}
	for _, w := range b.Warnings() {
		t.Logf("warning: %s", w)
	}
	ipxe := read(t, b, IPXEScript)
	url := "url=http://10.0.0.1:8080/ubuntu.iso"
	for _, want := range []string{
		"item e1-Try-or-Install-Ubuntu-Server Try or Install Ubuntu Server",
		"kernel casper/vmlinuz ",
		"initrd casper/initrd",
		"kernel casper/hwe-vmlinuz ",
		"--timeout 30000 --default e1-Try-or-Install-Ubuntu-Server",
	} {
		if !strings.Contains(ipxe, want) {
			t.Errorf("iPXE script lacks %q:\n%s", want, ipxe)
		}
	}
	var kernels int
	for _, line := range strings.Split(ipxe, "\n") {
		if !strings.HasPrefix(line, "kernel casper/") {
			continue
		}
		kernels++
		for _, arg := range []string{"boot=casper", url, "ip=dhcp", "---"} {
			if !strings.Contains(line, " "+arg) {
				t.Errorf("casper kernel line without %q: %s", arg, line)
			}
		}
	}
	if kernels != 2 {
		t.Errorf("%d casper kernel lines, want 2:\n%s", kernels, ipxe)
	}

	// The tree's own grub.cfg wins under its own name; the generated
	// one is every other */grub.cfg (what grubnetx64.efi asks for).
	if got := read(t, b, "boot/grub/grub.cfg"); got != string(tree["boot/grub/grub.cfg"].Data) {
		t.Errorf("boot/grub/grub.cfg is not the tree's own:\n%s", got)
	}
	if l, _ := b.Lookup("boot/grub/grub.cfg"); l != LayerTree {
		t.Errorf("Lookup(boot/grub/grub.cfg) = %v, want tree", l)
	}
	for _, n := range []string{GRUBConfig, "EFI/BOOT/grub.cfg", "x/grub.cfg"} {
		if l, g := b.Lookup(n); l != LayerGenerated || g != GRUBConfig {
			t.Errorf("Lookup(%s) = %v %q, want generated %s", n, l, g, GRUBConfig)
		}
	}
	gen := read(t, b, GRUBConfig)
	if !strings.Contains(gen, url) || !strings.Contains(gen, "/casper/hwe-vmlinuz") {
		t.Errorf("generated GRUB configuration without the casper entries:\n%s", gen)
	}
	if pxe := read(t, b, PXELinuxConfig); !strings.Contains(pxe, url) {
		t.Errorf("pxelinux menu without %s:\n%s", url, pxe)
	}
	// Every name the overlay lists opens.
	if err := fstest.TestFS(b, IPXEScript, GRUBConfig, PXELinuxConfig, "boot/grub/grub.cfg", "casper/vmlinuz"); err != nil {
		t.Error(err)
	}
}

// A tree with an isolinux menu keeps it, whatever GRUB files it has too.
func TestIsolinuxBeforeGRUB(t *testing.T) {
	tree := isoTree()
	tree["boot/grub/grub.cfg"] = &fstest.MapFile{Data: []byte("menuentry grub { linux /g }\n")}
	b, err := New(tree, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Config() != "isolinux/isolinux.cfg" || b.Menu().Menu.Entry("grub") != nil {
		t.Errorf("Config() = %q; menu from GRUB", b.Config())
	}
}

func TestBadGRUBConfigFails(t *testing.T) {
	_, err := New(fstest.MapFS{"boot/grub/grub.cfg": {Data: []byte("menuentry 'x {\n")}}, nil)
	var pe *bootmenu.ParseError
	if !errors.As(err, &pe) || pe.File != "boot/grub/grub.cfg" {
		t.Errorf("New with a broken grub.cfg: %v, want a *bootmenu.ParseError naming it", err)
	}
}

// A Fedora 41 boot image: no isolinux, GRUB for BIOS (boot/grub2) and EFI
// (EFI/BOOT), the lorax grub.cfg filled in, and its .treeinfo.
func TestGRUBOnlyFedora(t *testing.T) {
	ti, err := os.ReadFile("testdata/treeinfo/fedora-41-boot.treeinfo")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../bootmenu/testdata/grub/lorax/mkksiso-uefi-grub.cfg")
	if err != nil {
		t.Fatal(err)
	}
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tree := fstest.MapFS{
		".treeinfo":                 {Data: ti},
		"EFI/BOOT/grub.cfg":         {Data: cfg},
		"EFI/BOOT/BOOTX64.EFI":      f("shim"),
		"boot/grub2/grub.cfg":       {Data: cfg},
		"images/pxeboot/vmlinuz":    f("kernel"),
		"images/pxeboot/initrd.img": f("initrd"),
		"images/install.img":        f("stage2"),
	}
	b, err := New(tree, &Options{HTTPBase: "http://10.0.0.1:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Config() != "boot/grub2/grub.cfg" || b.Family() == nil || b.Family().Name != FamilyAnaconda {
		t.Fatalf("Config() = %q, Family() = %v; want boot/grub2/grub.cfg, anaconda", b.Config(), b.Family())
	}
	ipxe := read(t, b, IPXEScript)
	for _, want := range []string{
		"item e1-Install-Fedora-rawhide Install Fedora rawhide",
		"--default e2-Test-this-media-install-Fedora-rawhide", // set default="1"
		"kernel images/pxeboot/vmlinuz ",
		"inst.stage2=http://10.0.0.1:8080/",
		"initrd --name initrd.img images/pxeboot/initrd.img",
	} {
		if !strings.Contains(ipxe, want) {
			t.Errorf("iPXE script lacks %q:\n%s", want, ipxe)
		}
	}
	if strings.Contains(ipxe, "hd:LABEL=") {
		t.Errorf("iPXE script keeps the local stage2:\n%s", ipxe)
	}
}
