package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/isofs"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "pxelinux.0", want: "pxelinux.0"},
		{in: "/pxelinux.0", want: "pxelinux.0"},                          // GRUB, some ROMs
		{in: "//boot//./vmlinuz", want: "boot/vmlinuz"},                  // empty and "." elements
		{in: `boot\x86_64\grubx64.efi`, want: "boot/x86_64/grubx64.efi"}, // Windows-made menus
		{in: "::boot/ldlinux.c32", want: "boot/ldlinux.c32"},             // pxelinux absolute path
		{in: "::/boot/ldlinux.c32", want: "boot/ldlinux.c32"},
		{in: "pxelinux.cfg/01-52-54-00-12-34-56", want: "pxelinux.cfg/01-52-54-00-12-34-56"},
		{in: "..", bad: true},
		{in: "../etc/passwd", bad: true},
		{in: "boot/../../x", bad: true},
		{in: "boot/../x", bad: true}, // refused, not rewritten
		{in: `..\x`, bad: true},
		{in: "a\x00b", bad: true},
		{in: "/", bad: true},
		{in: "", bad: true},
		{in: "::", bad: true},
		{in: "...", want: "..."}, // a legal file name
	}
	for _, tc := range tests {
		got, err := CleanPath(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrAccessViolation) {
				t.Errorf("CleanPath(%q) = %q, %v; want ErrAccessViolation", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestWireBlock(t *testing.T) {
	tests := []struct {
		k    int64
		one  bool
		want uint16
	}{
		{0, false, 0}, {1, false, 1}, {65535, false, 65535}, {65536, false, 0}, {65537, false, 1},
		{0, true, 0}, {1, true, 1}, {65535, true, 65535}, {65536, true, 1}, {65537, true, 2}, {131070, true, 65535}, {131071, true, 1},
	}
	for _, tc := range tests {
		if got := wireBlock(tc.k, tc.one); got != tc.want {
			t.Errorf("wireBlock(%d, %v) = %d, want %d", tc.k, tc.one, got, tc.want)
		}
	}
	// ackBlock inverts wireBlock inside a window, across the wrap.
	for _, one := range []bool{false, true} {
		for _, hi := range []int64{0, 1, 5, 65534, 65535, 65536, 65537, 131070, 131071, 200000} {
			for lo := max(hi-70, 0); lo <= hi; lo++ {
				for k := lo; k <= hi; k++ {
					if one && k == 0 && lo > 0 {
						continue
					}
					got, ok := ackBlock(wireBlock(k, one), lo, hi, one)
					if !ok || got != k {
						t.Fatalf("ackBlock(wire(%d), %d, %d, %v) = %d, %v", k, lo, hi, one, got, ok)
					}
				}
			}
			// A number outside [lo, hi] is rejected.
			if hi > 100 {
				if _, ok := ackBlock(wireBlock(hi-100, one), hi-10, hi, one); ok {
					t.Errorf("ackBlock accepted a block behind the window (hi %d)", hi)
				}
			}
		}
	}
}

// fetchFile downloads name from the server at addr with a raw lock-step
// client; it returns the bytes, or the TFTP error code (-1 when served).
func fetchFile(t *testing.T, addr, name string) ([]byte, int) {
	t.Helper()
	c := newRawClient(t, addr)
	c.sendRRQ(name, "octet")
	var out []byte
	for want := uint16(1); ; want++ {
		p := c.mustRecv()
		if binary.BigEndian.Uint16(p) == opERROR {
			return nil, errorCode(t, p)
		}
		if binary.BigEndian.Uint16(p) != opDATA || binary.BigEndian.Uint16(p[2:]) != want {
			t.Fatalf("%s: got %x, want DATA %d", name, p[:min(len(p), 8)], want)
		}
		out = append(out, p[4:]...)
		c.send(ack(want))
		if len(p)-4 < 512 {
			return out, -1
		}
	}
}

// TestLinksInDir pins the link rule on a file system that reports its
// links (os.DirFS): they resolve inside the root as in a chroot, so no
// link reaches a file outside it, and an absolute target names a file
// under the root.
func TestLinksInDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "ok"), []byte("root ok\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "boot"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "boot", "file.txt"), []byte("root boot\n"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("secret\n"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "ok"), []byte("outside ok\n"), 0o644))
	rel, err := filepath.Rel(dir, outside)
	must(err)
	links := map[string]string{
		"inside":     "ok",
		"abs":        "/boot/file.txt",                 // the root's boot/file.txt, as in a chroot
		"abs-out":    filepath.Join(outside, "secret"), // a host path: no such file under the root
		"rel-out":    filepath.Join(rel, "secret"),     // climbs out: ".." stops at the root
		"rel-out-ok": filepath.Join(rel, "ok"),         // outside has an ok: not served
		"dir-out":    outside,
		"bootdir":    "boot",
		"loop":       "loop",
	}
	for name, target := range links {
		must(os.Symlink(target, filepath.Join(dir, name)))
	}
	addr := startServer(t, &Server{FS: os.DirFS(dir)})
	tests := []struct {
		file, want string
		code       int
	}{
		{"inside", "root ok\n", -1},
		{"abs", "root boot\n", -1},
		{"abs-out", "", errFileNotFound},
		{"rel-out", "", errFileNotFound},
		{"dir-out/secret", "", errFileNotFound},
		{"bootdir/file.txt", "root boot\n", -1},
		{"loop", "", errAccessViolation},
		{"rel-out-ok", "", errFileNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, code := fetchFile(t, addr, tc.file)
			if string(got) != tc.want || code != tc.code {
				t.Errorf("RRQ %q = %q (error %d), want %q (error %d)", tc.file, got, code, tc.want, tc.code)
			}
		})
	}
}

// TestLinksAgreeWithISO serves an xorriso-made image with links of every
// kind through tftp and checks each answer against isofs' own reading of
// the same name: a file system's links mean the same over TFTP as through
// fs.ReadFile (and so over HTTP).
func TestLinksAgreeWithISO(t *testing.T) {
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "boot", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(src, "boot", "file.txt"), []byte("in the image\n"), 0o644))
	must(os.WriteFile(filepath.Join(src, "boot", "sub", "deep.txt"), []byte("deep\n"), 0o644))
	for name, target := range map[string]string{
		"abs":       "/boot/file.txt",
		"rel":       "boot/file.txt",
		"up":        "../../boot/file.txt",
		"dirlink":   "/boot",
		"chain":     "abs",
		"dangling":  "/nowhere",
		"boot/back": "../boot/sub/deep.txt",
		"loop":      "loop",
	} {
		must(os.Symlink(target, filepath.Join(src, name)))
	}
	iso := filepath.Join(t.TempDir(), "links.iso")
	if out, err := exec.Command(xorriso, "-as", "mkisofs", "-R", "-o", iso, src).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	f, err := os.Open(iso)
	must(err)
	defer f.Close()
	fsys, err := isofs.Open(f)
	must(err)
	addr := startServer(t, &Server{FS: fsys})
	for _, name := range []string{"abs", "rel", "up", "dirlink/file.txt", "dirlink/sub/deep.txt", "chain", "dangling", "boot/back", "loop", "boot/file.txt"} {
		t.Run(name, func(t *testing.T) {
			want, ferr := fs.ReadFile(fsys, name)
			got, code := fetchFile(t, addr, name)
			if (ferr == nil) != (code < 0) || !bytes.Equal(got, want) {
				t.Errorf("RRQ %q = %q (error %d); isofs.ReadFile = %q, %v", name, got, code, want, ferr)
			}
		})
	}
}

// isofs resolves its links inside the image, and says so.
var _ RootedLinksFS = (*isofs.FS)(nil)

// countingLinkFS is a ReadLinkFS over a MapFS that counts Lstat calls and
// reports rooted from LinksInRoot.
type countingLinkFS struct {
	fstest.MapFS
	rooted bool
	lstats int
}

func (c *countingLinkFS) Lstat(name string) (fs.FileInfo, error) {
	c.lstats++
	return c.MapFS.Lstat(name)
}

func (c *countingLinkFS) LinksInRoot() bool { return c.rooted }

// TestRootedLinksOpenedDirectly: a file system that resolves its own
// links inside its root (RootedLinksFS reporting true) is opened without
// the server's walk of every prefix; one that reports false, or only
// ReadLinkFS, is walked, one Lstat per element.
func TestRootedLinksOpenedDirectly(t *testing.T) {
	const name = "a/b/c/d/file"
	for _, tc := range []struct {
		rooted bool
		want   int
	}{{true, 0}, {false, 5}} {
		fsys := &countingLinkFS{MapFS: fstest.MapFS{name: {Data: []byte("x")}}, rooted: tc.rooted}
		s := &Server{FS: fsys}
		f, err := s.openFS(name)
		if err != nil {
			t.Fatalf("rooted %v: openFS(%q): %v", tc.rooted, name, err)
		}
		f.Close()
		if fsys.lstats != tc.want {
			t.Errorf("rooted %v: openFS(%q) made %d Lstat calls, want %d", tc.rooted, name, fsys.lstats, tc.want)
		}
	}
}
