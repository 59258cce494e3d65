package netboot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/pxekit/pxekit/bootmenu"
)

const base = "http://10.0.0.1:8080/"

// layout makes an image tree: a name ending in "/" is a directory, any
// other a small file; name=content gives a file its content.
func layout(names ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, n := range names {
		if d, ok := strings.CutSuffix(n, "/"); ok {
			m[d] = &fstest.MapFile{Mode: 0o555 | os.ModeDir}
			continue
		}
		n, content, ok := strings.Cut(n, "=")
		if !ok {
			content = "data of " + n
		}
		m[n] = &fstest.MapFile{Data: []byte(content), Mode: 0o444}
	}
	return m
}

// corpusEntry resolves a configuration from the shared corpus of real
// menus (../shared/corpus/menus, see its README), after replacing the
// build-time placeholders as the image's build tool does, and returns the
// entry with the given label.
func corpusEntry(t *testing.T, file string, subst map[string]string, label string) *bootmenu.Entry {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "corpus", "menus", "github", filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		p = filepath.Join("/work/shared/corpus/menus/github", filepath.FromSlash(file))
		b, err = os.ReadFile(p)
	}
	if err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	s := string(b)
	for k, v := range subst {
		s = strings.ReplaceAll(s, k, v)
	}
	r, err := bootmenu.Resolve(fstest.MapFS{"menu.cfg": {Data: []byte(s)}}, "menu.cfg", nil)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", file, err)
	}
	if e := findEntry(r.Menu, label); e != nil {
		return e
	}
	t.Fatalf("%s has no LABEL %s", file, label)
	return nil
}

func findEntry(m *bootmenu.Menu, label string) *bootmenu.Entry {
	for _, e := range m.Entries {
		if e.Label == label && e.Action == bootmenu.ActionBoot {
			return e
		}
		if e.Submenu != nil {
			if f := findEntry(e.Submenu, label); f != nil {
				return f
			}
		}
	}
	return nil
}

func mustDetect(t *testing.T, fsys fstest.MapFS, name string) *Family {
	t.Helper()
	f, err := DetectFamily(fsys)
	if err != nil {
		t.Fatalf("DetectFamily: %v", err)
	}
	if f.Name != name {
		t.Fatalf("DetectFamily = %q (evidence %q), want %q", f.Name, f.Evidence, name)
	}
	return f
}

type rewriteCase struct {
	name    string
	line    string
	served  Served
	want    string
	wantErr error
}

func runRewrites(t *testing.T, f *Family, cases []rewriteCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.served.BaseURL == "" {
				tc.served.BaseURL = base
			}
			got, err := f.Rewrite(tc.line, tc.served)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Rewrite(%q) = %q, %v; want error %v", tc.line, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rewrite(%q): %v", tc.line, err)
			}
			if got != tc.want {
				t.Errorf("Rewrite(%q)\n got %q\nwant %q", tc.line, got, tc.want)
			}
			// A rewritten line rewrites to itself: nothing is added twice.
			if again, err := f.Rewrite(got, tc.served); err != nil || again != got {
				t.Errorf("Rewrite(Rewrite(x)) = %q, %v; want %q", again, err, got)
			}
		})
	}
}

// Debian Live (live-build): the ISO's layout, the line live-build writes
// for its "Live" entry (LB_BOOTAPPEND_LIVE's default, "boot=live
// components quiet splash"), and netboot.cz's real menu, which fetches
// from another server.
func TestLiveBoot(t *testing.T) {
	img := layout("live/vmlinuz", "live/initrd.img", "live/filesystem.squashfs", "live/filesystem.packages",
		".disk/info", "install/vmlinuz", "install/initrd.gz", "dists/", "pool/", "isolinux/isolinux.cfg")
	f := mustDetect(t, img, FamilyLiveBoot)
	if diff := cmp.Diff([]string{"live/filesystem.squashfs"}, f.Serve); diff != "" {
		t.Errorf("Serve (-want +got):\n%s", diff)
	}
	cz := corpusEntry(t, "netboot.cz/debianlive.conf", nil, "debianlive-standard-amd64")
	runRewrites(t, f, []rewriteCase{
		{name: "live-build default", line: "boot=live components quiet splash",
			served: Served{Kernel: "/live/vmlinuz"},
			want:   "boot=live components quiet splash fetch=" + base + "live/filesystem.squashfs"},
		{name: "findiso and initrd kept in place", line: "initrd=/live/initrd.img boot=live components findiso=/debian.iso quiet",
			served: Served{Kernel: "/live/vmlinuz"},
			want:   "initrd=/live/initrd.img boot=live components quiet fetch=" + base + "live/filesystem.squashfs"},
		{name: "netboot.cz: fetch= replaced in place, before --", line: cz.Append,
			served: Served{Kernel: "/live/vmlinuz"},
			want: "initrd=http://live.debian.net/cdimage/release/stable/amd64/webboot/debian-live-7.0.0-amd64-standard.initrd.img " +
				"live fetch=" + base + "live/filesystem.squashfs vga=788 boot=live --"},
		{name: "operator wins", line: "boot=live components quiet splash",
			served: Served{Kernel: "/live/vmlinuz", Extra: "fetch=http://10.0.0.2/x.squashfs quiet toram"},
			want:   "boot=live components quiet splash fetch=http://10.0.0.2/x.squashfs toram"},
		{name: "installer entry", line: "vga=788 --- quiet", served: Served{Kernel: "/install/vmlinuz"},
			wantErr: ErrNotNetbootable},
	})
}

// grml: one flavour per directory, named by live-media-path= (grml-live's
// real isolinux grml.cfg, placeholders filled as grml-live does).
func TestLiveBootFlavours(t *testing.T) {
	img := layout("boot/grml64full/vmlinuz", "live/grml64-full/grml64-full.squashfs",
		"live/grml32-full/grml32-full.squashfs", "conf/bootid.txt")
	f := mustDetect(t, img, FamilyLiveBoot)
	e := corpusEntry(t, "grml-live/config/media-files/GRMLBASE/boot/isolinux/grml.cfg", map[string]string{
		"%SHORT_NAME%": "grml64full", "%GRML_NAME%": "grml64-full", "%BOOTID%": "grml64full202412311200",
	}, "ssh")
	runRewrites(t, f, []rewriteCase{
		{name: "grml ssh entry", line: e.Append, served: Served{Kernel: e.Kernel},
			want: "initrd=/boot/grml64full/initrd.img boot=live live-media-path=/live/grml64-full/ " +
				"bootid=grml64full202412311200 apm=power-off vga=791 nomce ssh fetch=" + base + "live/grml64-full/grml64-full.squashfs"},
		{name: "no image in the default directory", line: "boot=live", served: Served{Kernel: "/boot/grml64full/vmlinuz"},
			wantErr: ErrMissingFile},
	})
}

func TestCmdline(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  a  b\tc\n", []string{"a", "b", "c"}},
		{`acpi_osi="!Windows 2006" quiet`, []string{`acpi_osi="!Windows 2006"`, "quiet"}},
		{`"quoted flag" x=1`, []string{`"quoted flag"`, "x=1"}},
		{`unterminated="a b`, []string{`unterminated="a b`}},
	} {
		if got := parseCmdline(tc.in); !cmp.Equal([]string(got), tc.want, cmp.Comparer(func(a, b []string) bool {
			return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
		})) {
			t.Errorf("parseCmdline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	c := parseCmdline(`a=1 b "c=x y" a=2 -- d`)
	if v, _ := c.get("a"); v != "2" {
		t.Errorf("get(a) = %q, want the last value, 2", v)
	}
	if v, _ := c.get("c"); v != "x y" {
		t.Errorf(`get(c) = %q, want "x y"`, v)
	}
	if got := c.set("a", "3").String(); got != `a=3 b "c=x y" -- d` {
		t.Errorf("set(a, 3) = %q", got)
	}
	c = parseCmdline(`a=1 b -- d`)
	if got := c.set("a", "1").flag("b").setDefault("e", "5").String(); got != `a=1 b e=5 -- d` {
		t.Errorf("set/flag/setDefault = %q", got)
	}
	c = parseCmdline(`ip=dhcp console=tty0 quiet`)
	if got := c.override(parseCmdline("console=ttyS0 quiet splash")).String(); got != `ip=dhcp console=ttyS0 quiet splash` {
		t.Errorf("override = %q", got)
	}
}

// Arch Linux: releng's real PXE and BIOS menus, with the placeholders
// mkarchiso fills (%INSTALL_DIR% arch, %ARCH% x86_64, the ISO's date as
// %ARCHISO_UUID%).
func TestArchiso(t *testing.T) {
	arch := map[string]string{"%INSTALL_DIR%": "arch", "%ARCH%": "x86_64", "%ARCHISO_UUID%": "2024-12-01-08-18-26-00"}
	files := []string{"arch/boot/x86_64/vmlinuz-linux", "arch/boot/x86_64/initramfs-linux.img",
		"arch/x86_64/airootfs.sfs", "arch/x86_64/airootfs.sha512", "boot/2024-12-01-08-18-26-00.uuid",
		"boot/syslinux/syslinux.cfg"}
	signed := mustDetect(t, layout(append(files, "arch/x86_64/airootfs.sfs.cms.sig")...), FamilyArchiso)
	if diff := cmp.Diff([]string{"arch/x86_64/airootfs.sfs", "arch/x86_64/airootfs.sha512",
		"arch/x86_64/airootfs.sfs.cms.sig"}, signed.Serve); diff != "" {
		t.Errorf("Serve (-want +got):\n%s", diff)
	}
	unsigned := mustDetect(t, layout(files...), FamilyArchiso)
	http := corpusEntry(t, "archiso/configs/releng/syslinux/archiso_pxe-linux.cfg", arch, "arch_http")
	bios := corpusEntry(t, "archiso/configs/releng/syslinux/archiso_sys-linux.cfg", arch, "arch")
	speech := corpusEntry(t, "archiso/configs/releng/syslinux/archiso_sys-linux.cfg", arch, "archspeech")
	runRewrites(t, signed, []rewriteCase{
		{name: "PXE HTTP entry", line: http.Append, served: Served{Kernel: http.Kernel},
			want: "archisobasedir=arch archiso_http_srv=" + base + " cms_verify=y initrd=::/arch/boot/x86_64/initramfs-linux.img ip=dhcp"},
		{name: "BIOS entry", line: bios.Append, served: Served{Kernel: bios.Kernel},
			want: "archisobasedir=arch initrd=/arch/boot/x86_64/initramfs-linux.img archiso_http_srv=" + base + " ip=dhcp"},
		{name: "speech entry", line: speech.Append, served: Served{Kernel: speech.Kernel},
			want: "archisobasedir=arch accessibility=on initrd=/arch/boot/x86_64/initramfs-linux.img archiso_http_srv=" + base + " ip=dhcp"},
		{name: "base dir from the kernel path", line: "archisosearchuuid=x", served: Served{Kernel: "/arch/boot/x86_64/vmlinuz-linux"},
			want: "archisobasedir=arch archiso_http_srv=" + base + " ip=dhcp"},
		{name: "checksum file present", line: "archisobasedir=arch checksum=y", served: Served{Kernel: bios.Kernel},
			want: "archisobasedir=arch checksum=y archiso_http_srv=" + base + " ip=dhcp"},
		{name: "operator ip and BOOTIF", line: bios.Append,
			served: Served{Kernel: bios.Kernel, Extra: "ip=10.0.0.9::10.0.0.1:255.255.255.0::eth0:none BOOTIF=01-52-54-00-12-34-56"},
			want:   "archisobasedir=arch initrd=/arch/boot/x86_64/initramfs-linux.img archiso_http_srv=" + base + " ip=10.0.0.9::10.0.0.1:255.255.255.0::eth0:none BOOTIF=01-52-54-00-12-34-56"},
		{name: "wrong base dir", line: "archisobasedir=sysresccd", served: Served{Kernel: "/sysresccd/boot/x86_64/vmlinuz"},
			wantErr: ErrMissingFile},
	})
	runRewrites(t, unsigned, []rewriteCase{
		{name: "cms_verify without the signature", line: http.Append, served: Served{Kernel: http.Kernel},
			wantErr: ErrMissingFile},
		{name: "operator turns cms_verify off", line: http.Append, served: Served{Kernel: http.Kernel, Extra: "cms_verify=n"},
			want: "archisobasedir=arch archiso_http_srv=" + base + " cms_verify=n initrd=::/arch/boot/x86_64/initramfs-linux.img ip=dhcp"},
	})
}

// SystemRescue: the real sysresccd_sys.cfg of systemrescue-zfs (an
// archiso derivative), placeholders filled as its build does.
func TestArchisoSystemRescue(t *testing.T) {
	f := mustDetect(t, layout("sysresccd/boot/x86_64/vmlinuz", "sysresccd/boot/x86_64/sysresccd.img",
		"sysresccd/x86_64/airootfs.sfs", "sysresccd/x86_64/airootfs.sha512", "boot/syslinux/sysresccd_sys.cfg"), FamilyArchiso)
	sys := corpusEntry(t, "systemrescue-zfs/syslinux/sysresccd_sys.cfg", map[string]string{
		"%INSTALL_DIR%": "sysresccd", "%ISO_ARCH%": "x86_64", "%ARCHISO_LABEL%": "RESCUE1103",
		"%DEFAULT_KERNEL_PARAM%": "iomem=relaxed", "%CONSOLES%": "console=tty0",
	}, "sysresccd")
	runRewrites(t, f, []rewriteCase{
		{name: "default entry", line: sys.Append, served: Served{Kernel: sys.Kernel},
			want: "archisobasedir=sysresccd iomem=relaxed console=tty0 " +
				"initrd=boot/intel_ucode.img,boot/amd_ucode.img,boot/x86_64/sysresccd.img archiso_http_srv=" + base + " ip=dhcp"},
	})
}

// Ubuntu: the desktop ISO's isolinux line (20.04, txt.cfg), and a real
// preseeding menu from the corpus.
func TestCasper(t *testing.T) {
	f := mustDetect(t, layout("casper/vmlinuz", "casper/initrd", "casper/filesystem.squashfs",
		"casper/filesystem.manifest", ".disk/casper-uuid-generic", ".disk/info", "isolinux/txt.cfg"), FamilyCasper)
	if !f.NeedsImage || len(f.Serve) != 0 {
		t.Errorf("NeedsImage, Serve = %v, %q; want true and nothing", f.NeedsImage, f.Serve)
	}
	if diff := cmp.Diff([]string{"casper/filesystem.squashfs", ".disk/casper-uuid-generic"}, f.Evidence); diff != "" {
		t.Errorf("Evidence (-want +got):\n%s", diff)
	}
	iso := Served{Kernel: "/casper/vmlinuz", ImageURL: base + "ubuntu-20.04.6-desktop-amd64.iso"}
	pre := corpusEntry(t, "ubuntu-16.04-preseed/isolinux/txt.cfg", nil, "live-install")
	runRewrites(t, f, []rewriteCase{
		{name: "desktop", line: "file=/cdrom/preseed/ubuntu.seed initrd=/casper/initrd quiet splash ---", served: iso,
			want: "file=/cdrom/preseed/ubuntu.seed initrd=/casper/initrd quiet splash boot=casper url=" + iso.ImageURL +
				" ip=dhcp cloud-config-url=/dev/null ---"},
		{name: "local selectors dropped", line: "boot=casper live-media=/dev/sr0 cdrom-detect/try-usb=true iso-scan/filename=/u.iso maybe-ubiquity quiet ---",
			served: iso,
			want:   "boot=casper maybe-ubiquity quiet url=" + iso.ImageURL + " ip=dhcp cloud-config-url=/dev/null ---"},
		{name: "preseeded corpus menu", line: pre.Append, served: iso,
			want: strings.Replace(pre.Append, " noshell ---", " noshell url="+iso.ImageURL+" ip=dhcp cloud-config-url=/dev/null ---", 1)},
		{name: "no image URL", line: "quiet splash ---", served: Served{Kernel: "/casper/vmlinuz"}, wantErr: ErrNeedImage},
		{name: "image URL not .iso", line: "quiet splash ---", served: Served{Kernel: "/casper/vmlinuz", ImageURL: base + "ubuntu.img"},
			wantErr: ErrNeedImage},
	})
}

// Fedora's netinstall image (no packages) and a RHEL DVD (BaseOS and
// AppStream repositories), with the real lorax and kickstart menus of
// the corpus.
func TestAnaconda(t *testing.T) {
	boot := mustDetect(t, layout(".treeinfo="+string(readTreeinfo(t, "fedora-41-boot.treeinfo")),
		"images/install.img", "images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", "isolinux/isolinux.cfg"), FamilyAnaconda)
	if boot.Treeinfo.Family() != "Fedora" {
		t.Errorf("Treeinfo.Family() = %q", boot.Treeinfo.Family())
	}
	if diff := cmp.Diff([]string{".treeinfo", "images/install.img"}, boot.Serve); diff != "" {
		t.Errorf("Serve (-want +got):\n%s", diff)
	}
	dvd := mustDetect(t, layout(".treeinfo="+string(readTreeinfo(t, "rocky-9-dvd.treeinfo")),
		"images/install.img", "images/pxeboot/vmlinuz", "BaseOS/repodata/repomd.xml", "AppStream/repodata/repomd.xml",
		"ks.cfg"), FamilyAnaconda)
	if diff := cmp.Diff([]string{".treeinfo", "images/install.img", "AppStream/", "BaseOS/"}, dvd.Serve); diff != "" {
		t.Errorf("Serve (-want +got):\n%s", diff)
	}
	lorax := corpusEntry(t, "lorax/tests/mkksiso/data/isolinux.cfg", nil, "linux")
	check := corpusEntry(t, "lorax/tests/mkksiso/data/isolinux.cfg", nil, "check")
	ks := corpusEntry(t, "centos-kickstart/isolinux/isolinux.cfg", nil, "linux")
	rescue := corpusEntry(t, "centos-kickstart/isolinux/isolinux.cfg", nil, "rescue")
	vm := Served{Kernel: "vmlinuz"}
	runRewrites(t, boot, []rewriteCase{
		{name: "netinstall", line: lorax.Append, served: vm,
			want: "initrd=initrd.img inst.stage2=" + base + " console=ttyUSB0 quiet ip=dhcp"},
		{name: "media check dropped", line: check.Append, served: vm,
			want: "initrd=initrd.img inst.stage2=" + base + " quiet ip=dhcp"},
		{name: "root= dropped", line: "root=live:CDLABEL=x inst.stage2=hd:LABEL=x quiet", served: vm,
			want: "inst.stage2=" + base + " quiet ip=dhcp"},
		{name: "operator kickstart and static ip", line: lorax.Append,
			served: Served{Kernel: "vmlinuz", Extra: "inst.ks=http://10.0.0.1/ks.cfg ip=10.0.0.9::10.0.0.1:255.255.255.0:box:ens3:none"},
			want: "initrd=initrd.img inst.stage2=" + base + " console=ttyUSB0 quiet " +
				"ip=10.0.0.9::10.0.0.1:255.255.255.0:box:ens3:none inst.ks=http://10.0.0.1/ks.cfg"},
	})
	runRewrites(t, dvd, []rewriteCase{
		{name: "kickstart from the DVD", line: ks.Append, served: vm,
			want: "initrd=initrd.img inst.repo=" + base + " inst.ks=" + base + "ks.cfg modprobe.blacklist=floppy nomodeset quiet ip=dhcp"},
		{name: "rescue", line: rescue.Append, served: vm,
			want: "initrd=initrd.img inst.repo=" + base + " inst.rescue quiet ip=dhcp"},
		{name: "network repo kept", line: "inst.repo=http://mirror/rocky/9/BaseOS/x86_64/os/ inst.stage2=hd:LABEL=x quiet", served: vm,
			want: "inst.repo=http://mirror/rocky/9/BaseOS/x86_64/os/ inst.stage2=" + base + " quiet ip=dhcp"},
	})
}

// Fedora Workstation Live: the line livemedia-creator writes.
func TestDracutLive(t *testing.T) {
	f := mustDetect(t, layout("LiveOS/squashfs.img", "images/pxeboot/vmlinuz", "images/pxeboot/initrd.img",
		"isolinux/isolinux.cfg", "EFI/BOOT/grub.cfg"), FamilyDracutLive)
	sk := corpusEntry(t, "skopjehacklab-netboot/pxelinux.cfg/fedora.cfg", nil, "fedora")
	runRewrites(t, f, []rewriteCase{
		{name: "live", line: "root=live:CDLABEL=Fedora-WS-Live-41-1-4 rd.live.image quiet rhgb", served: Served{Kernel: "/images/pxeboot/vmlinuz"},
			want: "root=live:" + base + "LiveOS/squashfs.img rd.live.image quiet rhgb ip=dhcp"},
		{name: "media check", line: "root=live:CDLABEL=Fedora-WS-Live-41-1-4 rd.live.image rd.live.check quiet", served: Served{Kernel: "/images/pxeboot/vmlinuz"},
			want: "root=live:" + base + "LiveOS/squashfs.img rd.live.image quiet ip=dhcp"},
		{name: "another server's netboot menu", line: sk.Append, served: Served{Kernel: sk.Kernel},
			want: "ip=dhcp root=live:" + base + "LiveOS/squashfs.img initrd=http://192.168.155.254/nfs/fedora/images/pxeboot/initrd.img rd.live.image"},
	})
	// A live image that also has a .treeinfo boots live, as its line says.
	both := mustDetect(t, layout(".treeinfo=[stage2]\nmainimage = LiveOS/squashfs.img\n", "LiveOS/squashfs.img"), FamilyAnaconda)
	runRewrites(t, both, []rewriteCase{
		{name: "live entry of an anaconda tree", line: "root=live:CDLABEL=F rd.live.image quiet", served: Served{Kernel: "/isolinux/vmlinuz"},
			want: "root=live:" + base + "LiveOS/squashfs.img rd.live.image quiet ip=dhcp"},
	})
	if _, err := DetectFamily(layout("LiveOS/squashfs.img", "boot/x86_64/loader/linux")); !errors.Is(err, ErrUnknownFamily) {
		t.Errorf("DetectFamily(kiwi live) = %v, want ErrUnknownFamily", err)
	}
}

// openSUSE Leap's DVD: the loader's default line.
func TestOpenSUSE(t *testing.T) {
	f := mustDetect(t, layout("boot/x86_64/loader/linux", "boot/x86_64/loader/initrd", "boot/x86_64/loader/isolinux.cfg",
		"boot/x86_64/root", "media.1/products", "x86_64/"), FamilyOpenSUSE)
	cz := corpusEntry(t, "netboot.cz/opensuse.conf", nil, "osuse-amd64")
	runRewrites(t, f, []rewriteCase{
		{name: "DVD", line: "initrd=initrd splash=silent showopts", served: Served{Kernel: "linux"},
			want: "initrd=initrd splash=silent showopts install=" + base},
		{name: "netboot.cz menu", line: cz.Append, served: Served{Kernel: cz.Kernel},
			want: "initrd=http://download.opensuse.org/distribution/openSUSE-current/repo/oss/boot/x86_64/loader/initrd " +
				"vga=0x314 showopts install=" + base + " --"},
	})
}

// Alpine's extended ISO: the line aports' mkimg.base.sh writes.
func TestAlpine(t *testing.T) {
	f := mustDetect(t, layout(".alpine-release", "boot/vmlinuz-lts", "boot/initramfs-lts", "boot/modloop-lts",
		"apks/x86_64/APKINDEX.tar.gz", "boot/syslinux/syslinux.cfg"), FamilyAlpine)
	if diff := cmp.Diff([]string{"boot/modloop-lts", "apks/"}, f.Serve); diff != "" {
		t.Errorf("Serve (-want +got):\n%s", diff)
	}
	runRewrites(t, f, []rewriteCase{
		{name: "lts", line: "modules=loop,squashfs,sd-mod,usb-storage quiet console=tty0 console=ttyS0,115200",
			served: Served{Kernel: "/boot/vmlinuz-lts"},
			want: "modules=loop,squashfs,sd-mod,usb-storage quiet console=tty0 console=ttyS0,115200 modloop=" + base +
				"boot/modloop-lts alpine_repo=" + base + "apks ip=dhcp"},
		{name: "no modules= given", line: "quiet", served: Served{Kernel: "/boot/vmlinuz-lts"},
			want: "quiet modloop=" + base + "boot/modloop-lts alpine_repo=" + base + "apks ip=dhcp modules=loop,squashfs"},
		{name: "flavour without modloop", line: "quiet", served: Served{Kernel: "/boot/vmlinuz-virt"}, wantErr: ErrMissingFile},
	})
}

// Debian's netinst: the CD initrd has no net-retriever.
func TestDebianCD(t *testing.T) {
	f := mustDetect(t, layout(".disk/info", "install.amd/vmlinuz", "install.amd/initrd.gz", "dists/bookworm/Release",
		"pool/main/", "isolinux/isolinux.cfg"), FamilyDebianCD)
	_, err := f.Rewrite("vga=788 --- quiet", Served{BaseURL: base, Kernel: "/install.amd/vmlinuz"})
	if !errors.Is(err, ErrNotNetbootable) || !strings.Contains(err.Error(), "net-retriever") {
		t.Errorf("Rewrite = %v, want ErrNotNetbootable naming net-retriever", err)
	}
}

func TestDetectUnknown(t *testing.T) {
	for _, img := range []fstest.MapFS{
		layout("README.txt"),
		layout("live/vmlinuz", "live/initrd.img"), // no root image
		layout("dists/", "pool/"),                 // an archive mirror, no installer
		layout("boot/x86_64/loader/linux"),        // loader without an installation system
	} {
		f, err := DetectFamily(img)
		if !errors.Is(err, ErrUnknownFamily) || f != nil {
			t.Errorf("DetectFamily(%v) = %v, %v; want ErrUnknownFamily", img, f, err)
		}
	}
}
