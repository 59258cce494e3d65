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

	"github.com/pxekit/pxekit/internal/testenv"
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
// DHCP, HTTP on :8080, plus fi.flags), boots it with fi.fw and checks that
// the initramfs printed the hash of the file it had to fetch.
func bootFamily(t *testing.T, fi familyImage) {
	l := newLab(t)
	iso, want := fi.build(l)
	d := l.pxekit(append([]string{"-range", labFirst + "-" + labLast, "-iso", iso, "-ra"}, fi.flags...)...)
	r := l.boot(fi.fw, bootTimeout)
	m := sha256Line.FindAllStringSubmatch(r.serial, -1)
	if len(m) != 1 {
		t.Fatalf("%s: the initramfs printed %d sha256= lines, want 1\n--- serial console (last 4000 bytes):\n%s", fi.name, len(m), tail(r.serial, 4000))
	}
	if got := m[0][1]; got != want {
		t.Fatalf("%s: the initramfs fetched a file with SHA-256 %s, want %s (of %q in the image)\n--- serial console (last 4000 bytes):\n%s", fi.name, got, want, fi.fetched, tail(r.serial, 4000))
	}
	if fi.fetched != "" {
		requireLog(t, d, "msg=http", "file="+fi.fetched, "status=200")
	}
	t.Logf("%s: fetched %s over HTTP, SHA-256 %s", fi.name, fi.fetched, want)
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
