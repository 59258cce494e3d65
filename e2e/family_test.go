package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// A familyImage is an ISO image laid out as one distribution family's
// live or installer image is, made at test time with xorriso: its kernel is
// the Debian kernel and its initrd the test initrd of buildFetchInitrd,
// which downloads what the kernel line names by the family's rule and
// prints its hash. Its boot menu carries the family's own kernel line,
// which names local media only: only a server that turns it into an HTTP
// line (netboot's family rules) gets the client to the root file system.
type familyImage struct {
	name   string
	volume string // volume ID, which local selectors such as CDLABEL= name
	// config is the path of the isolinux/syslinux configuration in the
	// image and menu its text; includes holds further files it names.
	config   string
	menu     string
	includes map[string]string
	kernel   string // where the image keeps kernel and initrd
	initrd   string
	// payload lists files filled with random bytes (sizes in bytes); the
	// one at fetched is what the initramfs must download. fetched "" means
	// the image itself (casper loop-mounts the whole ISO).
	payload map[string]int
	fetched string
	// text holds small files that mark the family's layout.
	text map[string]string
	// empty lists initrds that the menu loads beside the test initrd
	// (CPU microcode, as archiso's first initrds): empty cpio archives.
	empty []string
	rule  fetchRule
	fw    firmware
	flags []string // extra minimal-server flags
}

// build writes the image into l.dir and returns its path and the hex
// SHA-256 of the file the initramfs must fetch.
func (fi familyImage) build(l *lab) (iso, want string) {
	t := l.t
	src := l.mkdir("image-" + fi.name)
	copyFile(t, debianKernel, filepath.Join(src, fi.kernel))
	buildFetchInitrd(t, filepath.Join(src, fi.initrd), fi.rule, l.marker)
	writeFile(t, filepath.Join(src, fi.config), fi.menu)
	for p, s := range fi.includes {
		writeFile(t, filepath.Join(src, p), s)
	}
	for p, s := range fi.text {
		writeFile(t, filepath.Join(src, p), s)
	}
	for _, p := range fi.empty {
		var b strings.Builder
		if err := writeCPIO(&b, nil); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(src, p), b.String())
	}
	sums := map[string]string{}
	for p, n := range fi.payload {
		data := make([]byte, n)
		_, _ = rand.Read(data)
		h := sha256.Sum256(data)
		sums[p] = hex.EncodeToString(h[:])
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	iso = filepath.Join(l.dir, fi.name+".iso")
	out, err := exec.Command(xorriso, "-as", "mkisofs", "-R", "-J", "-V", fi.volume, "-o", iso, src).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	if err := os.RemoveAll(src); err != nil { // nothing but the image remains
		t.Fatal(err)
	}
	if fi.fetched == "" {
		data, err := os.ReadFile(iso)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		return iso, hex.EncodeToString(h[:])
	}
	want, ok := sums[fi.fetched]
	if !ok {
		t.Fatalf("image %s: fetched file %s is not in its payload", fi.name, fi.fetched)
	}
	return iso, want
}

var sha256Line = regexp.MustCompile(`(?m)^sha256=([0-9a-f]{64})\r?$`)

// bootFamily builds fi's image, serves it with minimal-server -iso (full
// DHCP, HTTP on the server's address and port 8080, which the rewritten
// kernel lines must name, plus fi.flags), boots it with fi.fw and checks that
// the initramfs printed the hash of the file it had to fetch.
func bootFamily(t *testing.T, fi familyImage) {
	l := newLab(t)
	iso, want := fi.build(l)
	l.pxekit(append([]string{"-range", labFirst + "-" + labLast, "-iso", iso, "-ra", "-http", labServerIP + ":8080"}, fi.flags...)...)
	// Without a menu nothing boots: say so now rather than after
	// bootTimeout.
	if none, _ := l.hasNote("serving", "generated="); none {
		_, body := l.status()
		t.Fatalf("%s: minimal-server generated no menu from the image (its menu is %s):\n%s", fi.name, fi.config, body)
	}
	r := l.boot(fi.fw, bootTimeout)
	m := sha256Line.FindAllStringSubmatch(r.serial, -1)
	if len(m) != 1 {
		t.Fatalf("%s: the initramfs printed %d sha256= lines, want 1\n--- serial console (last 4000 bytes):\n%s", fi.name, len(m), tail(r.serial, 4000))
	}
	if got := m[0][1]; got != want {
		t.Fatalf("%s: the initramfs fetched a file with SHA-256 %s, want %s (of %q in the image)\n--- serial console (last 4000 bytes):\n%s", fi.name, got, want, fi.fetched, tail(r.serial, 4000))
	}
	what := "the image itself"
	if fi.fetched != "" {
		// The initramfs asked from the machine's address (its own DHCP,
		// from the same pool, gives the same one).
		m := l.machine(timeline.StageKernel)
		if x := requireTransfer(t, m, events.ProtoHTTP, fi.fetched, "ok"); x.Status != 200 {
			t.Errorf("%s: HTTP status %d, want 200 (the whole file)", fi.fetched, x.Status)
		}
		what = fi.fetched
	}
	t.Logf("%s: fetched %s over HTTP, SHA-256 %s", fi.name, what, want)
}

// payloadSize is the size of the random root file systems: enough for
// several HTTP writes, small enough for the CI budget.
const payloadSize = 384 << 10

// liveBootImage is a Debian Live (live-boot) image: live/vmlinuz,
// live/initrd.img, live/filesystem.squashfs, and the isolinux line of
// live-build's images, "boot=live components quiet splash", plus appendix.
func liveBootImage(appendix string) familyImage {
	return familyImage{
		name:   "live-boot",
		volume: "d-live 12.5.0 st amd64",
		config: "isolinux/isolinux.cfg",
		menu: `# after live-build's isolinux/live.cfg
default live-amd64
prompt 0
timeout 1
label live-amd64
	menu label ^Live system (amd64)
	menu default
	linux /live/vmlinuz
	initrd /live/initrd.img
	append boot=live components quiet splash` + appendix + `
label live-amd64-failsafe
	menu label Live system (amd64 fail-safe mode)
	linux /live/vmlinuz
	initrd /live/initrd.img
	append boot=live components memtest noapic noapm nodma nomce nosmp nosplash vga=788` + appendix + `
`,
		kernel:  "live/vmlinuz",
		initrd:  "live/initrd.img",
		payload: map[string]int{"live/filesystem.squashfs": payloadSize},
		fetched: "live/filesystem.squashfs",
		text:    map[string]string{".disk/info": "Debian GNU/Linux Live 12.5.0 amd64\n"},
		rule:    fetchRule{param: "fetch"},
		fw:      biosIPXE,
	}
}

// TestFamilyHarnessExplicitFetch proves the family harness without any
// rewriting: a Debian Live image whose isolinux line already names its
// squashfs over HTTP (fetch=, as a user of live-boot writes it for PXE)
// boots with BIOS iPXE from minimal-server -iso, and its initramfs
// downloads exactly the image's live/filesystem.squashfs.
func TestFamilyHarnessExplicitFetch(t *testing.T) {
	t.Parallel()
	fi := liveBootImage(" fetch=http://" + labServerIP + ":8080/live/filesystem.squashfs console=ttyS0")
	bootFamily(t, fi)
}

// familyImages are the images of TestFamilies: each family's layout (after
// /work/shared/notes/distro-netboot.md) and the kernel line of its own
// isolinux/syslinux menu, plus console=ttyS0 so that a failing boot shows
// the kernel's messages. Timeouts are cut to a second; the rest is as the
// distributions ship it.
func familyImages() []familyImage {
	const console = " console=ttyS0"
	return []familyImage{
		liveBootImage(console),
		{
			// Ubuntu's isolinux/txt.cfg; casper fetches the whole ISO
			// (url=…/x.iso), so the hash wanted is the image's own.
			name:   "casper",
			volume: "Ubuntu 22.04.4 LTS amd64",
			config: "isolinux/isolinux.cfg",
			menu: `default live
prompt 0
timeout 1
label live
  menu label ^Try Ubuntu without installing
  kernel /casper/vmlinuz
  append  file=/cdrom/preseed/ubuntu.seed boot=casper initrd=/casper/initrd quiet splash ---` + console + `
label live-install
  menu label ^Install Ubuntu
  kernel /casper/vmlinuz
  append  file=/cdrom/preseed/ubuntu.seed boot=casper only-ubiquity initrd=/casper/initrd quiet splash ---` + console + `
`,
			kernel:  "casper/vmlinuz",
			initrd:  "casper/initrd",
			payload: map[string]int{"casper/filesystem.squashfs": payloadSize},
			text: map[string]string{
				".disk/casper-uuid-generic": "6e1f4a0c-8e41-4c4b-9d0e-3b0b1f0e2a11\n",
				".disk/info":                "Ubuntu 22.04.4 LTS \"Jammy Jellyfish\" - Release amd64 (20240220)\n",
			},
			rule: fetchRule{param: "url", match: "*.iso", require: []string{"boot=casper", "ip=dhcp"}},
			fw:   biosIPXE,
		},
		{
			// Ubuntu 24.04 live-server: GRUB only, no isolinux
			// (boot/grub/grub.cfg as the image ships it), over UEFI.
			name:   "casper-grub",
			volume: "Ubuntu-Server 24.04.3 LTS amd64",
			config: "boot/grub/grub.cfg",
			menu: `set timeout=1

loadfont unicode

set menu_color_normal=white/black
set menu_color_highlight=black/light-gray

menuentry "Try or Install Ubuntu Server" {
	set gfxpayload=keep
	linux	/casper/vmlinuz  ---` + console + `
	initrd	/casper/initrd
}
grub_platform
if [ "$grub_platform" = "efi" ]; then
menuentry 'Boot from next volume' {
	exit 1
}
menuentry 'UEFI Firmware Settings' {
	fwsetup
}
fi
`,
			kernel:  "casper/vmlinuz",
			initrd:  "casper/initrd",
			payload: map[string]int{"casper/ubuntu-server-minimal.squashfs": payloadSize},
			text: map[string]string{
				".disk/casper-uuid-generic": "0c2b7e5e-5d38-4f5a-9a3c-9b8f2d0e7c11\n",
				".disk/info":                "Ubuntu-Server 24.04.3 LTS \"Noble Numbat\" - Release amd64 (20250805)\n",
			},
			rule: fetchRule{param: "url", match: "*.iso", require: []string{"ip=dhcp"}},
			fw:   uefiOVMF,
		},
		{
			// Fedora's installer (isolinux/isolinux.cfg of Fedora 36
			// Server, with kernel and initrd named where later releases
			// keep them); anaconda reads .treeinfo under
			// inst.stage2=URL and fetches its [stage2] mainimage.
			name:   "anaconda",
			volume: "Fedora-S-dvd-x86_64-36",
			config: "isolinux/isolinux.cfg",
			menu: `default linux
timeout 1
menu title Fedora 36
label linux
  menu label ^Install Fedora 36
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-36 quiet` + console + `
label check
  menu label Test this ^media & install Fedora 36
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-36 rd.live.check quiet` + console + `
`,
			kernel:  "images/pxeboot/vmlinuz",
			initrd:  "images/pxeboot/initrd.img",
			payload: map[string]int{"images/install.img": payloadSize},
			fetched: "images/install.img",
			text: map[string]string{".treeinfo": `[general]
arch = x86_64
family = Fedora
name = Fedora 36
platforms = x86_64
version = 36

[images-x86_64]
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[stage2]
mainimage = images/install.img
`},
			rule: fetchRule{param: "inst.stage2", dirSuffix: "/images/install.img", treeinfo: true, require: []string{"ip=dhcp"}, forbid: []string{"root="}},
			fw:   uefiOVMF,
		},
		{
			// Fedora Workstation Live 36's isolinux/isolinux.cfg: kernel
			// and initrd beside it, named relative to isolinux/.
			name:   "dracut-live",
			volume: "Fedora-WS-Live-36-1-5",
			config: "isolinux/isolinux.cfg",
			menu: `default linux
timeout 1
menu title Fedora-Workstation-Live 36
label linux
  menu label ^Start Fedora-Workstation-Live 36
  kernel vmlinuz
  append initrd=initrd.img root=live:CDLABEL=Fedora-WS-Live-36-1-5 rd.live.image quiet rhgb` + console + `
label check
  menu label Test this ^media & start Fedora-Workstation-Live 36
  kernel vmlinuz
  append initrd=initrd.img root=live:CDLABEL=Fedora-WS-Live-36-1-5 rd.live.image rd.live.check quiet` + console + `
`,
			kernel:  "isolinux/vmlinuz",
			initrd:  "isolinux/initrd.img",
			payload: map[string]int{"LiveOS/squashfs.img": payloadSize},
			fetched: "LiveOS/squashfs.img",
			rule:    fetchRule{param: "root", strip: "live:", require: []string{"rd.live.image", "ip=dhcp"}},
			fw:      biosIPXE,
		},
		{
			// archiso's syslinux/archiso_sys-linux.cfg: microcode
			// initrds first, then the real one; archiso_pxe_http fetches
			// <archiso_http_srv><archisobasedir>/x86_64/airootfs.sfs.
			name:   "archiso",
			volume: "ARCH_202403",
			config: "boot/syslinux/syslinux.cfg",
			menu: `SERIAL 0 115200
DEFAULT arch64
TIMEOUT 1
INCLUDE archiso_sys-linux.cfg
`,
			includes: map[string]string{"boot/syslinux/archiso_sys-linux.cfg": `LABEL arch64
TEXT HELP
Boot the Arch Linux install medium on BIOS.
It allows you to install Arch Linux or perform system maintenance.
ENDTEXT
MENU LABEL Arch Linux install medium (x86_64, BIOS)
LINUX /arch/boot/x86_64/vmlinuz-linux
INITRD /arch/boot/intel-ucode.img,/arch/boot/amd-ucode.img,/arch/boot/x86_64/initramfs-linux.img
APPEND archisobasedir=arch archisosearchuuid=2024-03-01-10-00-00-00` + console + `
`},
			kernel:  "arch/boot/x86_64/vmlinuz-linux",
			initrd:  "arch/boot/x86_64/initramfs-linux.img",
			empty:   []string{"arch/boot/intel-ucode.img", "arch/boot/amd-ucode.img"},
			payload: map[string]int{"arch/x86_64/airootfs.sfs": payloadSize},
			fetched: "arch/x86_64/airootfs.sfs",
			text:    map[string]string{"boot/2024-03-01-10-00-00-00.uuid": ""},
			rule: fetchRule{param: "archiso_http_srv", base: "archisobasedir", tail: "/x86_64/airootfs.sfs",
				require: []string{"ip=dhcp"}, forbid: []string{"archisosearchuuid="}},
			fw: uefiOVMF,
		},
		{
			// openSUSE Leap's boot/x86_64/loader/isolinux.cfg (default
			// "linux" instead of "harddisk", timeout cut from 60 s);
			// linuxrc loads the installation system from
			// <install>/boot/x86_64/root.
			name:   "opensuse",
			volume: "openSUSE-Leap-15.5-DVD-x86_6401",
			config: "boot/x86_64/loader/isolinux.cfg",
			menu: `default linux

# hard disk
label harddisk
  localboot 0x80

# install
label linux
  kernel linux
  append initrd=initrd splash=silent showopts` + console + `

# upgrade
label upgrade
  kernel linux
  append initrd=initrd splash=silent upgrade=1 showopts` + console + `

implicit	1
prompt		0
timeout		1
`,
			kernel:  "boot/x86_64/loader/linux",
			initrd:  "boot/x86_64/loader/initrd",
			payload: map[string]int{"boot/x86_64/root": payloadSize},
			fetched: "boot/x86_64/root",
			text:    map[string]string{"media.1/products": "/ openSUSE 15.5-0\n", "media.1/media": "openSUSE - openSUSE-15.5-x86_64-Build491.1-Media\nopenSUSE-15.5-x86_64-Build491.1\n1\n"},
			rule:    fetchRule{param: "install", dirSuffix: "/boot/x86_64/root"},
			fw:      biosIPXE,
		},
		{
			// Alpine's boot/syslinux/syslinux.cfg; the initramfs mounts
			// the modloop from modloop=URL and installs from alpine_repo.
			name:   "alpine",
			volume: "alpine-std 3.19.1 x86_64",
			config: "boot/syslinux/syslinux.cfg",
			menu: `SERIAL 0 115200
TIMEOUT 10
PROMPT 1
DEFAULT lts

LABEL lts
MENU LABEL Linux lts
KERNEL /boot/vmlinuz-lts
INITRD /boot/initramfs-lts
FDTDIR /boot/dtbs-lts
APPEND modules=loop,squashfs,sd-mod,usb-storage quiet console=tty0 console=ttyS0,115200
`,
			kernel:  "boot/vmlinuz-lts",
			initrd:  "boot/initramfs-lts",
			payload: map[string]int{"boot/modloop-lts": payloadSize, "apks/x86_64/APKINDEX.tar.gz": 4 << 10},
			fetched: "boot/modloop-lts",
			text:    map[string]string{".alpine-release": "3.19.1 240126\n"},
			rule:    fetchRule{param: "modloop", require: []string{"ip=dhcp", "alpine_repo="}},
			fw:      biosIPXE,
			// pxelinux, as syslinux boots Alpine's image: kernel and
			// initrd over TFTP, the line from the pxelinux menu.
			flags: []string{"-bios-boot", "pxelinux.0"},
		},
	}
}

// TestFamilies boots one image of each distribution family, with its own
// local kernel line, from minimal-server -iso: it passes when the test
// initrd, reading the line as the family's initramfs does, fetched the
// family's root file system (or the whole image) from the server over HTTP.
// Boots run in parallel as far as qemuSlots allows.
func TestFamilies(t *testing.T) {
	for _, fi := range familyImages() {
		t.Run(fi.name, func(t *testing.T) {
			t.Parallel()
			bootFamily(t, fi)
		})
	}
}
