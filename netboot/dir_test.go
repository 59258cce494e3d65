package netboot

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// linkTree makes a served root and a directory outside it:
//
//	out/secret           the file no client may read
//	sys/prog.efi         a system boot program, allowed in some cases
//	root/ok.txt
//	root/sub/in.txt
//	root/inside -> sub/in.txt          stays inside
//	root/abs    -> OUT/secret          absolute, outside
//	root/rel    -> ../out/secret       relative, outside
//	root/etc    -> OUT                 a directory outside
//	root/prog.efi -> SYS/prog.efi      outside, in an allowed directory
func linkTree(t *testing.T) (root, out, sys string) {
	t.Helper()
	base := t.TempDir()
	root, out, sys = filepath.Join(base, "root"), filepath.Join(base, "out"), filepath.Join(base, "sys")
	for _, d := range []string{filepath.Join(root, "sub"), out, sys} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(out, "secret"), "secret\n")
	write(filepath.Join(sys, "prog.efi"), "MZ program\n")
	write(filepath.Join(root, "ok.txt"), "ok\n")
	write(filepath.Join(root, "sub", "in.txt"), "in\n")
	links := map[string]string{
		"inside":   "sub/in.txt",
		"abs":      filepath.Join(out, "secret"),
		"rel":      "../out/secret",
		"etc":      out,
		"prog.efi": filepath.Join(sys, "prog.efi"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, out, sys
}

func TestDirConfinesLinks(t *testing.T) {
	root, _, sys := linkTree(t)
	for _, allow := range [][]string{nil, {sys}} {
		d, err := Dir(root, allow...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for _, tc := range []struct {
			name, want string
			refused    bool
		}{
			{"ok.txt", "ok\n", false},
			{"inside", "in\n", false},
			{"abs", "", true},
			{"rel", "", true},
			{"etc/secret", "", true},
			{"prog.efi", "MZ program\n", allow == nil},
		} {
			b, err := d.ReadFile(tc.name)
			if tc.refused {
				if err == nil || !errors.Is(err, fs.ErrPermission) || !errors.Is(err, ErrOutsideRoot) {
					t.Errorf("allow=%v: ReadFile(%q) = %q, %v; want ErrOutsideRoot", allow, tc.name, b, err)
				}
				if f, err := d.Open(tc.name); err == nil {
					f.Close()
					t.Errorf("allow=%v: Open(%q) succeeded", allow, tc.name)
				}
				if _, err := d.Stat(tc.name); err == nil {
					t.Errorf("allow=%v: Stat(%q) succeeded", allow, tc.name)
				}
				continue
			}
			if err != nil || string(b) != tc.want {
				t.Errorf("allow=%v: ReadFile(%q) = %q, %v; want %q", allow, tc.name, b, err, tc.want)
			}
		}
		if _, err := d.ReadDir("etc"); err == nil {
			t.Errorf("allow=%v: ReadDir(etc) listed a directory outside the root", allow)
		}
	}
}

func TestDirTarget(t *testing.T) {
	root, out, sys := linkTree(t)
	d, err := Dir(root, sys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	outReal, _ := filepath.EvalSymlinks(out)
	sysReal, _ := filepath.EvalSymlinks(sys)
	for name, want := range map[string]struct {
		target string
		ok     bool
	}{
		"ok.txt":   {"", false},
		"inside":   {"", false},
		"abs":      {filepath.Join(outReal, "secret"), false},
		"prog.efi": {filepath.Join(sysReal, "prog.efi"), true},
		"missing":  {"", false},
	} {
		if got, ok := d.Target(name); got != want.target || ok != want.ok {
			t.Errorf("Target(%q) = %q, %v; want %q, %v", name, got, ok, want.target, want.ok)
		}
	}
}

func TestDirFS(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "pxelinux.cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"pxelinux.0", "pxelinux.cfg/default"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("pxelinux.0", filepath.Join(root, "alias.0")); err != nil {
		t.Fatal(err)
	}
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := fstest.TestFS(d, "pxelinux.0", "pxelinux.cfg/default", "alias.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(filepath.Join(root, "missing")); err == nil {
		t.Error("Dir of a missing directory succeeded")
	}
}
