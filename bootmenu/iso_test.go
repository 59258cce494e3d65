package bootmenu

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/isofs"
)

// openISO opens an ISO image with isofs for the length of the test.
func openISO(t *testing.T, file string) fs.FS {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fsys, err := isofs.Open(f)
	if err != nil {
		t.Fatalf("isofs.Open(%s): %v", file, err)
	}
	return fsys
}

// TestISOLinuxFromISO resolves the isolinux menu of the hybrid image that
// isofs's tests master with xorriso, reading it through isofs, as the
// minimal server does with an installer ISO.
func TestISOLinuxFromISO(t *testing.T) {
	testenv.NeedCommand(t, "xorriso")
	if _, err := os.Stat("/usr/lib/ISOLINUX/isolinux.bin"); err != nil {
		testenv.Unavailable(t, "isolinux not installed: %v", err)
	}
	iso := filepath.Join(t.TempDir(), "hybrid.iso")
	if out, err := exec.Command("sh", "../isofs/testdata/mkiso.sh", "hybrid", iso).CombinedOutput(); err != nil {
		t.Fatalf("mkiso.sh hybrid: %v\n%s", err, out)
	}
	fsys := openISO(t, iso)
	data, err := fs.ReadFile(fsys, "isolinux/isolinux.cfg")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != string(data) {
		t.Errorf("isolinux.cfg does not round-trip")
	}
	r, err := Resolve(fsys, "isolinux/isolinux.cfg", &ResolveOptions{Dir: "isolinux"})
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(r.Menu); got != "linux* rescue local" {
		t.Errorf("entries = %s", got)
	}
	for _, e := range r.Menu.Entries {
		if !e.IsLinux() {
			continue
		}
		// Every file the menu boots is in the image, under the name the
		// renderers will serve it by.
		for _, f := range append([]string{e.Kernel}, e.Initrds()...) {
			if _, err := fs.Stat(fsys, strings.TrimPrefix(f, "/")); err != nil {
				t.Errorf("entry %s names %s: %v", e.Label, f, err)
			}
		}
	}
	// Serve it from a prefix to pxelinux clients: the flat pxelinux file
	// names the kernel under the prefix.
	r.RewritePaths(func(_ PathKind, p string) string { return "iso/" + strings.TrimPrefix(p, "/") })
	var b strings.Builder
	if err := RenderPXELinux(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\tLINUX iso/boot/vmlinuz\n\tAPPEND initrd=iso/boot/initrd.img console=ttyS0,115200\n") {
		t.Errorf("rewritten menu:\n%s", b.String())
	}
}

// TestMenusFromISO masters an ISO holding Debian's netboot menus and
// resolves them through isofs: the result must be the one read from the
// installed directory tree.
func TestMenusFromISO(t *testing.T) {
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	dir := debianTree(t, "text")
	src := t.TempDir()
	// Copy the configuration files (not the kernel and initrd);
	// pxelinux.cfg/default is a symbolic link to boot-screens/syslinux.cfg.
	err := filepath.WalkDir(filepath.Join(dir, "debian-installer"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cfg") && d.Name() != "default" {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(t.TempDir(), "menus.iso")
	cmd := exec.Command(xorriso, "-as", "mkisofs", "-R", "-J", "-o", iso, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	isoFS := openISO(t, iso)
	fromISO, err := Resolve(isoFS, "debian-installer/amd64/pxelinux.cfg/default", nil)
	if err != nil {
		var names []string
		fs.WalkDir(isoFS, ".", func(p string, _ fs.DirEntry, err error) error {
			names = append(names, p)
			return err
		})
		t.Fatalf("%v; the image holds %q", err, names)
	}
	fromDir := mustResolve(t, os.DirFS(dir), "debian-installer/amd64/pxelinux.cfg/default")
	if d := cmp.Diff(fromDir, fromISO, cmpResolved...); d != "" {
		t.Errorf("menu read through isofs differs (-dir +iso):\n%s", d)
	}
	if len(fromISO.Menu.Entries) < 4 {
		t.Errorf("menu from ISO has %d entries", len(fromISO.Menu.Entries))
	}
}

// TestGRUBFromISO masters an image laid out as Ubuntu's live-server ISO
// (GRUB only, its real grub.cfg) with xorriso and reads its menu through
// isofs, names as Rock Ridge keeps them.
func TestGRUBFromISO(t *testing.T) {
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	dir := t.TempDir()
	files := map[string][]byte{
		"boot/grub/grub.cfg":   readSeed(t, "ubuntu/ubuntu-22.04-live-server.grub.cfg"),
		"EFI/boot/grubx64.efi": []byte("grub"),
		"casper/vmlinuz":       []byte("kernel"),
		"casper/initrd":        []byte("initrd"),
		"casper/hwe-vmlinuz":   []byte("kernel"),
		"casper/hwe-initrd":    []byte("initrd"),
		"boot/memtest86+.bin":  []byte("memtest"),
	}
	for name, data := range files {
		p := filepath.Join(dir, "tree", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	iso := filepath.Join(dir, "ubuntu.iso")
	if out, err := exec.Command(xorriso, "-as", "mkisofs", "-quiet", "-r", "-J", "-V", "Ubuntu-Server 22.04", "-o", iso, filepath.Join(dir, "tree")).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	fsys := openISO(t, iso)
	if _, _, err := FindConfig(fsys); err != ErrNoConfig {
		t.Fatalf("FindConfig = %v, want ErrNoConfig", err)
	}
	name, err := FindGRUBConfig(fsys)
	if err != nil || name != "boot/grub/grub.cfg" {
		t.Fatalf("FindGRUBConfig = %q, %v", name, err)
	}
	r, err := ResolveGRUB(fsys, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	var kernels []string
	for _, e := range r.Menu.All() {
		kernels = append(kernels, e.Kernel)
		for _, f := range append([]string{e.Kernel}, e.Initrds()...) {
			if _, err := fs.Stat(fsys, strings.TrimPrefix(f, "/")); err != nil {
				t.Errorf("entry %q names %s, not in the image: %v", e.Display, f, err)
			}
		}
	}
	if d := cmp.Diff([]string{"/casper/vmlinuz", "/casper/hwe-vmlinuz", "/boot/memtest86+.bin"}, kernels); d != "" {
		t.Errorf("kernels (-want +got):\n%s", d)
	}
}
