package isofs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/pxekit/pxekit/internal/testenv"
)

// corpusDir holds the images made by testdata/mkiso.sh during one run of the
// tests; TestMain removes it.
var corpusDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "isofs-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	corpusDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type madeImage struct {
	once sync.Once
	path string
	err  error
}

var madeImages sync.Map // kind -> *madeImage

// makeImage returns the path of an image that testdata/mkiso.sh makes (once
// per test binary run) with xorriso or genisoimage.
func makeImage(t testing.TB, kind string, args ...string) string {
	t.Helper()
	testenv.NeedCommand(t, "xorriso", "genisoimage")
	for _, p := range []string{"/usr/lib/ISOLINUX/isolinux.bin", "/usr/lib/syslinux/modules/bios/ldlinux.c32", ipxeISO} {
		if _, err := os.Stat(p); err != nil {
			testenv.Unavailable(t, "%s (packages isolinux, syslinux-common, ipxe)", p)
		}
	}
	key := kind + " " + strings.Join(args, " ")
	v, _ := madeImages.LoadOrStore(key, &madeImage{})
	img := v.(*madeImage)
	img.once.Do(func() {
		img.path = filepath.Join(corpusDir, strings.ReplaceAll(key, " ", "_")+".iso")
		cmd := exec.Command("testdata/mkiso.sh", append([]string{kind, img.path}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			img.err = fmt.Errorf("mkiso.sh %s: %v\n%s", key, err, out)
		}
	})
	if img.err != nil {
		t.Fatal(img.err)
	}
	return img.path
}

const ipxeISO = "/usr/lib/ipxe/ipxe.iso"

// openImage opens the image at path, from memory when it is small (the
// many small reads of fstest.TestFS then cost no system calls), else
// through an *os.File.
func openImage(t testing.TB, path string, opts Options) *FS {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var r io.ReaderAt = f
	if info, err := f.Stat(); err == nil && info.Size() < 64<<20 {
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	fsys, err := OpenWith(r, opts)
	if err != nil {
		t.Fatalf("OpenWith(%s, %+v): %v", path, opts, err)
	}
	return fsys
}

// entry is what the corpus tests compare of every file.
type entry struct {
	Mode string // fs.FileMode, type and permission bits
	Size int64  // regular files only
	Link string // symbolic link target
	Hash string // sha256 of a regular file's contents
}

// extracted lists what xorriso extracts from image (with -read_fs readFS:
// "any", "norock", "ecma119"), keyed by slash-separated path.
func extracted(t *testing.T, image, readFS string) map[string]entry {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "x")
	cmd := exec.Command("xorriso", "-osirrox", "on", "-read_fs", readFS, "-indev", image, "-extract", "/", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	got := make(map[string]entry)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		e := entry{Mode: info.Mode().String()}
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.Size, e.Hash = info.Size(), hash(b)
		case info.Mode()&fs.ModeSymlink != 0:
			e.Link, err = os.Readlink(p)
			if err != nil {
				return err
			}
		}
		got[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// listFS lists fsys the same way, reading regular files both with ReadFile
// and through Open and io.Copy (File.WriteTo).
func listFS(t *testing.T, fsys *FS) map[string]entry {
	t.Helper()
	got := make(map[string]entry)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{Mode: info.Mode().String()}
		switch {
		case info.Mode().IsRegular():
			b, err := fsys.ReadFile(p)
			if err != nil {
				return err
			}
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			if n != int64(len(b)) || hex.EncodeToString(h.Sum(nil)) != hash(b) {
				t.Errorf("%s: Open+io.Copy read %d bytes that differ from ReadFile's %d", p, n, len(b))
			}
			e.Size, e.Hash = info.Size(), hash(b)
		case info.Mode()&fs.ModeSymlink != 0:
			e.Link, err = fsys.ReadLink(p)
			if err != nil {
				return err
			}
		}
		got[p] = e
		return nil
	})
	if err != nil {
		t.Fatalf("WalkDir: %v", err)
	}
	return got
}

// corpusCases pairs each image and name tree with the xorriso -read_fs mode
// that extracts the same tree.
var corpusCases = []struct {
	kind   string
	args   []string
	names  NameSource
	readFS string
}{
	{kind: "plain-l1", names: NamesPlain, readFS: "ecma119"},
	{kind: "plain-l2", names: NamesPlain, readFS: "ecma119"},
	{kind: "plain-l3", names: NamesPlain, readFS: "ecma119"},
	{kind: "joliet", names: NamesAuto, readFS: "any"},
	{kind: "joliet", names: NamesPlain, readFS: "ecma119"},
	{kind: "rr-geniso", names: NamesAuto, readFS: "any"},
	{kind: "rr-geniso", names: NamesJoliet, readFS: "norock"},
	{kind: "rr-geniso", names: NamesPlain, readFS: "ecma119"},
	{kind: "rr-xorriso", names: NamesRockRidge, readFS: "any"},
	{kind: "rr-xorriso", names: NamesJoliet, readFS: "norock"},
	{kind: "rr-xorriso", names: NamesPlain, readFS: "ecma119"},
	{kind: "many", args: []string{"3000"}, names: NamesAuto, readFS: "any"},
	{kind: "zisofs", names: NamesAuto, readFS: "any"},
	{kind: "zisofs", args: []string{"128k"}, names: NamesAuto, readFS: "any"},
	{kind: "zisofs", names: NamesJoliet, readFS: "norock"},
	{kind: "hybrid", names: NamesAuto, readFS: "any"},
	{kind: "hidden-efi", names: NamesAuto, readFS: "any"},
	{kind: "ipxe", names: NamesAuto, readFS: "any"},
	{kind: "ipxe", names: NamesJoliet, readFS: "norock"},
	{kind: "ipxe", names: NamesPlain, readFS: "ecma119"},
}

func corpusImage(t *testing.T, kind string, args ...string) string {
	if kind == "ipxe" {
		if _, err := os.Stat(ipxeISO); err != nil {
			testenv.Unavailable(t, "%s (package ipxe): %v", ipxeISO, err)
		}
		return ipxeISO
	}
	return makeImage(t, kind, args...)
}

// TestCorpus compares, for every image of the corpus and every name tree,
// the file list, modes, link targets and sha256 of every file with what
// xorriso extracts, and runs fstest.TestFS.
func TestCorpus(t *testing.T) {
	for _, c := range corpusCases {
		t.Run(c.kind+"/"+c.names.String(), func(t *testing.T) {
			t.Parallel()
			image := corpusImage(t, c.kind, c.args...)
			want := extracted(t, image, c.readFS)
			fsys := openImage(t, image, Options{Names: c.names})
			got := listFS(t, fsys)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %v: files differ from xorriso -read_fs %s (-want +got):\n%s", c.kind, c.names, c.readFS, diff)
			}
			var files []string
			for p, e := range want {
				if strings.HasPrefix(e.Mode, "-") {
					files = append(files, p)
				}
			}
			slices.Sort(files)
			if len(files) > 50 {
				files = files[:50]
			}
			if err := fstest.TestFS(fsys, files...); err != nil {
				t.Errorf("fstest.TestFS: %v", err)
			}
		})
	}
}

// TestCorpusBootDir runs fstest.TestFS with the El Torito images shown
// in a directory.
func TestCorpusBootDir(t *testing.T) {
	for _, kind := range []string{"hybrid", "hidden-efi", "ipxe", "rr-xorriso"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fsys := openImage(t, corpusImage(t, kind), Options{BootDir: "eltorito"})
			want := []string{"eltorito/1-bios.img", "eltorito/2-efi.img"}
			if kind == "rr-xorriso" {
				want = []string{"hello.txt"}
				if _, err := fsys.Stat("eltorito"); err == nil {
					t.Errorf("Stat(eltorito) in an image without El Torito succeeded")
				}
			}
			if err := fstest.TestFS(fsys, want...); err != nil {
				t.Error(err)
			}
		})
	}
}

var toritoLine = regexp.MustCompile(`^El Torito boot img :\s+(\d+)\s+(\S+)\s+([yn])\s+(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)`)

// TestElTorito compares the boot catalog with xorriso -report_el_torito and
// the EFI image with the efi.img of Debian's ipxe.iso, which the hybrid
// images carry.
func TestElTorito(t *testing.T) {
	efi := extractFile(t, ipxeISO, "/efi.img")
	for _, kind := range []string{"hybrid", "hidden-efi", "ipxe"} {
		t.Run(kind, func(t *testing.T) {
			image := corpusImage(t, kind)
			out, err := exec.Command("xorriso", "-indev", image, "-report_el_torito", "plain").CombinedOutput()
			if err != nil {
				t.Fatalf("xorriso -report_el_torito: %v\n%s", err, out)
			}
			var want []BootImage
			for line := range strings.Lines(string(out)) {
				m := toritoLine.FindStringSubmatch(strings.TrimSpace(line))
				if m == nil {
					continue
				}
				b := BootImage{Bootable: m[3] == "y"}
				switch m[2] {
				case "BIOS":
					b.Platform = PlatformBIOS
				case "UEFI":
					b.Platform = PlatformEFI
				default:
					t.Fatalf("unknown platform in %q", line)
				}
				if m[4] != "none" {
					t.Fatalf("emulation %q in %q", m[4], line)
				}
				seg, _ := strconv.ParseUint(m[5], 16, 16)
				hdpt, _ := strconv.ParseUint(m[6], 16, 8)
				n, _ := strconv.ParseUint(m[7], 10, 16)
				lba, _ := strconv.ParseUint(m[8], 10, 32)
				b.LoadSegment, b.SystemType, b.SectorCount, b.LBA = uint16(seg), uint8(hdpt), uint16(n), uint32(lba)
				want = append(want, b)
			}
			if len(want) != 2 {
				t.Fatalf("xorriso reported %d boot images, want 2:\n%s", len(want), out)
			}
			fsys := openImage(t, image, Options{BootDir: "eltorito"})
			got, err := fsys.BootImages()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpIgnore("Size", "Name")); diff != "" {
				t.Errorf("BootImages() differs from xorriso -report_el_torito (-want +got):\n%s", diff)
			}
			f, err := fsys.OpenBootImage(1)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, efi) {
				t.Errorf("OpenBootImage(1): %d bytes, sha256 %s; want efi.img, %d bytes, %s", len(b), hash(b), len(efi), hash(efi))
			}
			b, err = fs.ReadFile(fsys, "eltorito/2-efi.img")
			if err != nil || !bytes.Equal(b, efi) {
				t.Errorf("ReadFile(eltorito/2-efi.img) = %d bytes, %v; want efi.img", len(b), err)
			}
			if _, err := fsys.OpenBootImage(2); err != ErrNoBootImage {
				t.Errorf("OpenBootImage(2) error = %v, want ErrNoBootImage", err)
			}
		})
	}
}

func cmpIgnore(fields ...string) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		return slices.Contains(fields, p.Last().String()[1:])
	}, cmp.Ignore())
}

// extractFile returns one file of an image as xorriso extracts it.
func extractFile(t *testing.T, image, name string) []byte {
	t.Helper()
	testenv.NeedCommand(t, "xorriso")
	if _, err := os.Stat(image); err != nil {
		testenv.Unavailable(t, "%s: %v", image, err)
	}
	out := filepath.Join(t.TempDir(), "file")
	cmd := exec.Command("xorriso", "-osirrox", "on", "-indev", image, "-extract", name, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIsolinuxConfig checks the hybrid image carries the isolinux menu
// other packages' tests read.
func TestIsolinuxConfig(t *testing.T) {
	fsys := openImage(t, makeImage(t, "hybrid"), Options{})
	b, err := fsys.ReadFile("isolinux/isolinux.cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DEFAULT linux", "LABEL linux", "KERNEL /boot/vmlinuz", "APPEND initrd=/boot/initrd.img"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("isolinux.cfg lacks %q:\n%s", want, b)
		}
	}
}
