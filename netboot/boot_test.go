package netboot

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/insomniacslk/dhcp/iana"
)

// An isolinux tree laid out as distribution images are: the menu beside
// isolinux.bin, kernel and initrd named from the root.
func isoTree() fstest.MapFS {
	return fstest.MapFS{
		"isolinux/isolinux.bin":    {Data: []byte("isolinux")},
		"isolinux/vesamenu.c32":    {Data: []byte("module of the image's syslinux")},
		"isolinux/isolinux.cfg":    {Data: []byte("UI vesamenu.c32\nDEFAULT live\nTIMEOUT 0\nLABEL live\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img boot=live components\nLABEL safe\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img boot=live nomodeset\n")},
		"live/vmlinuz":             {Data: []byte("kernel")},
		"live/initrd.img":          {Data: []byte("initrd")},
		"live/filesystem.squashfs": {Data: []byte("root")},
	}
}

func programsFS() fstest.MapFS {
	return fstest.MapFS{
		"pxelinux.0":  {Data: []byte("pxelinux of this machine")},
		"ldlinux.c32": {Data: []byte("ldlinux of this machine")},
		"menu.c32":    {Data: []byte("menu of this machine")},
		"snponly.efi": {Data: []byte("ipxe")},
	}
}

func read(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func TestOverlayPrecedence(t *testing.T) {
	tree := isoTree()
	tree["boot.ipxe"] = &fstest.MapFile{Data: []byte("#!ipxe\n# the tree's own\n")}
	b, err := New(tree, &Options{Programs: programsFS()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		layer Layer
		gen   string
	}{
		{"boot.ipxe", LayerTree, ""}, // a name the tree has wins
		{"live/vmlinuz", LayerTree, ""},
		{"pxelinux.cfg/default", LayerGenerated, PXELinuxConfig},
		{"pxelinux.cfg/01-52-54-00-12-34-56", LayerGenerated, PXELinuxConfig},
		{"pxelinux.cfg/C0A8", LayerGenerated, PXELinuxConfig},
		{"grub/grub.cfg", LayerGenerated, GRUBConfig},
		{"debian-installer/amd64/grub/grub.cfg", LayerGenerated, GRUBConfig},
		{"pxelinux.0", LayerPrograms, ""},
		{"ipxe.efi", LayerNone, ""},
	} {
		layer, gen := b.Lookup(c.name)
		if layer != c.layer || gen != c.gen {
			t.Errorf("Lookup(%q) = %v %q, want %v %q", c.name, layer, gen, c.layer, c.gen)
		}
	}
	if got := read(t, b, "boot.ipxe"); !strings.Contains(got, "the tree's own") {
		t.Errorf("boot.ipxe = %q, want the tree's", got)
	}
	if got := read(t, b, "pxelinux.0"); got != "pxelinux of this machine" {
		t.Errorf("pxelinux.0 = %q", got)
	}
	menu := read(t, b, "pxelinux.cfg/01-52-54-00-12-34-56")
	if !strings.Contains(menu, "/live/vmlinuz") || !strings.Contains(menu, "boot=live components") {
		t.Errorf("generated pxelinux menu lacks the image's entry:\n%s", menu)
	}
	// The image's vesamenu.c32 belongs to its own syslinux; the menu
	// module is the one beside the pxelinux.0 clients get.
	if strings.Contains(menu, "vesamenu") {
		t.Errorf("generated menu names the image's UI module:\n%s", menu)
	}
	if _, err := b.Open("ipxe.efi"); err == nil {
		t.Error("ipxe.efi opened, but no layer has it")
	}
	if _, err := b.Open("/pxelinux.0"); err == nil {
		t.Error("an invalid fs path opened")
	}
	if err := fstest.TestFS(b, "live/vmlinuz", "pxelinux.0"); err != nil {
		t.Error(err)
	}
}

// A tree with its own pxelinux.cfg/default (the default tree, a pxelinux
// tree) is read by pxelinux under every name it tries: a per-client name
// the tree lacks must not shadow it with a generated menu.
func TestOwnPXELinuxDefaultNotShadowed(t *testing.T) {
	own := "UI menu.c32\nDEFAULT local\nTIMEOUT 100\nLABEL local\n  LOCALBOOT 0\n"
	tree := fstest.MapFS{"pxelinux.cfg/default": {Data: []byte(own)}}
	b, err := New(tree, &Options{Programs: programsFS()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/C0A80A0B", "pxelinux.cfg/44454c4c-0000-1000-8000-000000000000"} {
		if layer, _ := b.Lookup(name); layer != LayerNone {
			t.Errorf("Lookup(%q) = %v, want none (pxelinux goes on to the tree's default)", name, layer)
		}
	}
	if got := read(t, b, "pxelinux.cfg/default"); got != own {
		t.Errorf("pxelinux.cfg/default = %q, want the tree's own", got)
	}
	if _, ok := b.gen[IPXEScript]; !ok {
		t.Error("no iPXE script generated from the tree's pxelinux menu")
	}
}

func TestUnattended(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	b, err := New(isoTree(), &Options{Default: "safe", Timeout: 5 * time.Second, HTTPBase: "http://10.0.0.1/", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	menu := read(t, b, PXELinuxConfig)
	for _, want := range []string{"TIMEOUT 50", "DEFAULT safe"} {
		if !strings.Contains(strings.ToUpper(menu), strings.ToUpper(want)) {
			t.Errorf("pxelinux menu lacks %q:\n%s", want, menu)
		}
	}
	if script := read(t, b, IPXEScript); !strings.Contains(script, "--timeout 5000") {
		t.Errorf("iPXE script does not time out after 5 s:\n%s", script)
	}
	if len(b.Warnings()) != 0 {
		t.Errorf("warnings %q with a timeout set", b.Warnings())
	}

	// The image's own timeout 0 waits for ever: say so.
	b, err = New(isoTree(), &Options{HTTPBase: "http://10.0.0.1/", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if w := b.Warnings(); len(w) != 1 || !strings.Contains(w[0], "timeout 0") {
		t.Errorf("warnings = %q, want one about timeout 0", w)
	}
	if _, err := New(isoTree(), &Options{Default: "nosuch"}); err == nil || !strings.Contains(err.Error(), "live, safe") {
		t.Errorf("unknown default label: err = %v, want one listing the labels", err)
	}
}

func TestNoConfigWarns(t *testing.T) {
	b, err := New(fstest.MapFS{"vmlinuz": {Data: []byte("k")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Generated()) != 0 || len(b.Warnings()) != 1 || !strings.Contains(b.Warnings()[0], "no isolinux") {
		t.Errorf("generated %q, warnings %q", b.Generated(), b.Warnings())
	}
}

// ARM64 UEFI HTTP boot gets the ARM64 program by URL, and nothing when
// the tree has none or there is no HTTP.
func TestPolicyARM64HTTPBoot(t *testing.T) {
	for _, tc := range []struct {
		name string
		tree fstest.MapFS
		base string
		want string
	}{
		{"GRUB", fstest.MapFS{"grubnetaa64.efi": {Data: []byte("g")}}, "http://:8080/", "http://:8080/grubnetaa64.efi"},
		{"top of the tree first", fstest.MapFS{"grubaa64.efi": {Data: []byte("g")}, "boot/shimaa64.efi": {Data: []byte("s")}}, "http://:8080/", "http://:8080/grubaa64.efi"},
		{"d-i tree", fstest.MapFS{"debian-installer/arm64/bootnetaa64.efi": {Data: []byte("s")}}, "http://:8080/", "http://:8080/debian-installer/arm64/bootnetaa64.efi"},
		{"no program", fstest.MapFS{"pxelinux.0": {Data: []byte("p")}}, "http://:8080/", ""},
		{"no HTTP", fstest.MapFS{"grubnetaa64.efi": {Data: []byte("g")}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(tc.tree, &Options{HTTPBase: tc.base})
			if err != nil {
				t.Fatal(err)
			}
			p, err := b.Policy(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.HTTP[iana.EFI_ARM64_HTTP]; got != tc.want {
				t.Errorf("Policy().HTTP[ARM64 HTTP] = %q, want %q (TFTP program %q)", got, tc.want, p.TFTP[iana.EFI_ARM64])
			}
		})
	}
}

// The policy offers only what the Boot serves.
func TestPolicyOffersOnlyServed(t *testing.T) {
	// A d-i netboot-like tree: pxelinux.0 and shim, no iPXE, no programs.
	tree := fstest.MapFS{
		"pxelinux.0":                            {Data: []byte("p")},
		"ldlinux.c32":                           {Data: []byte("l")},
		"pxelinux.cfg/default":                  {Data: []byte("DEFAULT install\nTIMEOUT 10\nLABEL install\n  KERNEL debian-installer/amd64/linux\n")},
		"debian-installer/amd64/bootnetx64.efi": {Data: []byte("shim")},
	}
	b, err := New(tree, &Options{HTTPBase: "http://:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.TFTP[iana.INTEL_X86PC]; got != "pxelinux.0" {
		t.Errorf("BIOS program %q", got)
	}
	if got := p.TFTP[iana.EFI_X86_64]; got != "debian-installer/amd64/bootnetx64.efi" {
		t.Errorf("EFI program %q", got)
	}
	if got, ok := p.HTTP[iana.EFI_X86_64_HTTP]; !ok || got != "" {
		t.Errorf("HTTP boot offered %q although no iPXE EFI is served", got)
	}
	if got := p.TFTP[iana.EFI_ARM64]; got != "" {
		t.Errorf("ARM64 offered %q, which is not served", got)
	}

	// With this machine's programs, HTTP boot gets iPXE and BIOS keeps the
	// tree's own pxelinux.0.
	b, err = New(tree, &Options{HTTPBase: "http://:8080/", Programs: programsFS()})
	if err != nil {
		t.Fatal(err)
	}
	p, err = b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.HTTP[iana.EFI_X86_64_HTTP]; got != "http://:8080/snponly.efi" {
		t.Errorf("HTTP boot program %q", got)
	}
	if p.IPXEScript != "http://:8080/boot.ipxe" {
		t.Errorf("iPXE script %q", p.IPXEScript)
	}
	if _, err := b.Policy(&PolicyOptions{EFI: "ipxe.efi"}); err == nil {
		t.Error("a named EFI program that is not served was accepted")
	}
	p, err = b.Policy(&PolicyOptions{BIOS: "pxelinux.0"})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := p.IPXEScripts[iana.INTEL_X86PC]; !ok || s != "" {
		t.Errorf("a named pxelinux.0 does not win over the iPXE script for BIOS iPXE clients: %q %v", s, ok)
	}
}

// The kernel lines of a recognised image get what makes the booted system
// fetch its root from this server, in every generated format.
func TestFamilyLinesInMenus(t *testing.T) {
	const fetch = "fetch=http://10.0.0.1:8080/live/filesystem.squashfs"
	for _, o := range []*Options{
		{HTTPBase: "http://10.0.0.1:8080/"},
		{HTTPBase: "http://:8080/", Host: "10.0.0.1"},
	} {
		b, err := New(isoTree(), o)
		if err != nil {
			t.Fatal(err)
		}
		if b.Family() == nil || b.Family().Name != FamilyLiveBoot {
			t.Fatalf("family %+v, want live-boot", b.Family())
		}
		for _, name := range []string{PXELinuxConfig, IPXEScript, GRUBConfig} {
			if got := read(t, b, name); strings.Count(got, fetch) != 2 {
				t.Errorf("%+v: %s has %d × %q, want one per entry:\n%s", o, name, strings.Count(got, fetch), fetch, got)
			}
		}
	}

	// No host to name: lines as written, and a warning that says why.
	b, err := New(isoTree(), &Options{HTTPBase: "http://:8080/", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, PXELinuxConfig); strings.Contains(got, "fetch=") {
		t.Errorf("fetch= with no host:\n%s", got)
	}
	if w := b.Warnings(); len(w) != 1 || !strings.Contains(w[0], "names no host") {
		t.Errorf("warnings %q", w)
	}

	// Plain: as written; Append: the operator's words win.
	b, err = New(isoTree(), &Options{HTTPBase: "http://10.0.0.1/", Plain: true, Append: "components=no quiet"})
	if err != nil {
		t.Fatal(err)
	}
	got := read(t, b, PXELinuxConfig)
	if strings.Contains(got, "fetch=") || !strings.Contains(got, "boot=live components=no quiet") {
		t.Errorf("plain with append:\n%s", got)
	}
}

// -root /usr/lib/ipxe: ipxe.efi there is a link to /boot/ipxe.efi. The
// policy and the servers read through the same Dir, so a program whose
// link leads out of the root is never offered, and one allowed by name is.
func TestPolicyAgreesWithDirLinks(t *testing.T) {
	outside, root := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "ipxe.efi"), []byte("ipxe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "ipxe.efi"), filepath.Join(root, "ipxe.efi")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "undionly.kpxe"), []byte("ipxe"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		allow []string
		efi   string
	}{{nil, ""}, {[]string{outside}, "ipxe.efi"}} {
		d, err := Dir(root, c.allow...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		b, err := New(d, &Options{HTTPBase: "http://10.0.0.1/"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.Policy(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.TFTP[iana.EFI_X86_64]; got != c.efi {
			t.Errorf("allow %q: EFI program %q, want %q", c.allow, got, c.efi)
		}
		_, err = fs.ReadFile(b, "ipxe.efi")
		if served := err == nil; served != (c.efi != "") {
			t.Errorf("allow %q: ipxe.efi served %v (err %v), but offered %q", c.allow, served, err, c.efi)
		}
	}
}

func TestMemtestLeftAlone(t *testing.T) {
	tree := isoTree()
	tree["isolinux/isolinux.cfg"] = &fstest.MapFile{Data: []byte("DEFAULT live\nTIMEOUT 10\nLABEL live\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img boot=live\nLABEL memtest\n  KERNEL /live/memtest86+.bin\n")}
	b, err := New(tree, &Options{HTTPBase: "http://10.0.0.1/"})
	if err != nil {
		t.Fatal(err)
	}
	e := b.Menu().Menu.Entry("memtest")
	if e == nil || e.Append != "" {
		t.Errorf("memtest entry %+v: want no arguments added", e)
	}
	if e := b.Menu().Menu.Entry("live"); e == nil || !strings.Contains(e.Append, "fetch=") {
		t.Errorf("live entry %+v: want fetch=", e)
	}
}

// HTTPImage hands UEFI HTTP boot clients the named image instead of iPXE,
// and only when the Boot serves it over HTTP.
func TestPolicyHTTPImage(t *testing.T) {
	programs := programsFS()
	programs["my image.iso"] = &fstest.MapFile{Data: []byte("CD001")}
	programs["disk.img"] = &fstest.MapFile{Data: []byte("disk")}
	programs["notes.txt"] = &fstest.MapFile{Data: []byte("text")}
	programs["tree.iso/file"] = &fstest.MapFile{Data: []byte("x")}
	b, err := New(isoTree(), &Options{HTTPBase: "http://10.0.0.1:8080/", Programs: programs})
	if err != nil {
		t.Fatal(err)
	}
	req := capture(t, "ovmf-http")
	for _, tc := range []struct{ image, want string }{
		{"", "http://10.0.0.1:8080/snponly.efi"},
		{"my image.iso", "http://10.0.0.1:8080/my%20image.iso"},
		{"disk.img", "http://10.0.0.1:8080/disk.img"},
		{"install/vmlinuz", ""}, // not a disk image
		{"notes.txt", ""},       // not a disk image
		{"missing.iso", ""},     // not served
		{"isolinux.iso", ""},    // not served
		{"isolinux/", ""},       // a directory
		{"../my image.iso", ""}, // not a valid name
	} {
		t.Run(tc.image, func(t *testing.T) {
			p, err := b.Policy(&PolicyOptions{HTTPImage: tc.image})
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Policy(HTTPImage: %q) = %q, want an error", tc.image, p.HTTP[iana.EFI_X86_64_HTTP])
				}
				return
			}
			if err != nil {
				t.Fatalf("Policy(HTTPImage: %q): %v", tc.image, err)
			}
			r, err := b.Decider(p).Decide(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if r.File != tc.want || !r.HTTP {
				t.Errorf("Policy(HTTPImage: %q): HTTP boot client gets %q (HTTP %v), want %q", tc.image, r.File, r.HTTP, tc.want)
			}
			// PXE clients keep their programs.
			if p.TFTP[iana.EFI_X86_64] != "snponly.efi" {
				t.Errorf("Policy(HTTPImage: %q): EFI PXE program %q", tc.image, p.TFTP[iana.EFI_X86_64])
			}
		})
	}

	// Without HTTP there is no URL to hand out.
	b, err = New(isoTree(), &Options{Programs: programs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Policy(&PolicyOptions{HTTPImage: "my image.iso"}); err == nil {
		t.Error("HTTPImage accepted without HTTPBase")
	}
}

func TestOSKernel(t *testing.T) {
	for name, want := range map[string]bool{
		"/live/vmlinuz": true, "casper/vmlinuz.efi": true, "/images/pxeboot/vmlinuz": true,
		"ipxe.lkrn": false, "/boot/memtest86+x64.efi": false, "memtest86+.bin": false, "menu.c32": false, "pxelinux.0": false,
	} {
		if got := osKernel(name); got != want {
			t.Errorf("osKernel(%q) = %v, want %v", name, got, want)
		}
	}
}
