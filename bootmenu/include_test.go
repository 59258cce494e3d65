package bootmenu

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestMissingInclude pins what a file that cannot be included does, as
// syslinux's menu.c32 and vesamenu.c32 do it (com32/menu/readconfig.c,
// do_include): the line is skipped with a warning, except that with a
// tag the submenu is opened before the file is, so it is there, empty.
func TestMissingInclude(t *testing.T) {
	tests := []struct {
		name, line string
		want       string  // labels(r.Menu)
		warn       []error // r.Warnings, in order
	}{
		{"include", "include gone.cfg", "a b", []error{ErrMissingInclude}},
		{"menu include", "menu include gone.cfg", "a b", []error{ErrMissingInclude}},
		{"menu include tag", "menu include gone.cfg Tools", "a Tools[] b", []error{ErrMissingInclude}},
		{"menu include tag of words", "MENU INCLUDE gone.cfg Rescue tools", "a Rescue tools[] b", []error{ErrMissingInclude}},
		{"include tag", "include gone.cfg Tools", "a Tools[] b", []error{ErrMissingInclude}},
		{"include outside", "include ../escape.cfg", "a b", []error{ErrBadInclude}},
		{"menu include outside tag", "menu include ../escape.cfg Tools", "a Tools[] b", []error{ErrBadInclude}},
		{"menu include url tag", "menu include http://x/y.cfg Tools", "a Tools[] b", []error{ErrBadInclude}},
		{"menu include present tag", "menu include sub.cfg Tools", "a Tools[s] b", nil},
		{"include present", "include sub.cfg", "a s b", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "label a\n" + tc.line + "\nlabel b\n"
			r := mustResolve(t, mapFS("a.cfg", src, "sub.cfg", "label s\n"), "a.cfg")
			if got := labels(r.Menu); got != tc.want {
				t.Errorf("Resolve(%q) entries = %s, want %s", src, got, tc.want)
			}
			if len(r.Warnings) != len(tc.warn) {
				t.Fatalf("Resolve(%q) warnings = %v, want %v", src, r.Warnings, tc.warn)
			}
			for i, w := range r.Warnings {
				var re *ResolveError
				if !errors.Is(w, tc.warn[i]) || !errors.As(w, &re) || re.File != "a.cfg" || re.Pos.Line != 2 {
					t.Errorf("Resolve(%q) warning %d = %v, want %v at a.cfg:2", src, i, w, tc.warn[i])
				}
			}
		})
	}
	// A label goes on across a plain INCLUDE of a missing file, as
	// syslinux reads nothing from it.
	r := mustResolve(t, mapFS("a.cfg", "label a\ninclude gone.cfg\nkernel k\n"), "a.cfg")
	if e := r.Menu.Entry("a"); e == nil || e.Kernel != "k" {
		t.Errorf("entry a = %+v, want kernel k", e)
	}
}

// TestMissingIncludeInQEMU boots real pxelinux with menu.c32 on a menu
// that MENU INCLUDEs a missing, a present and an unusable ("../") file
// with tags, and checks
// that the menu it draws on the serial port has an entry for each
// submenu Resolve makes, the one of the missing file too.
func TestMissingIncludeInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	qemu := testenv.NeedCommand(t, "qemu-system-x86_64")[0]
	const mods = "/usr/lib/syslinux/modules/bios/"
	files := map[string]string{
		"pxelinux.0": "/usr/lib/PXELINUX/pxelinux.0", "ldlinux.c32": mods + "ldlinux.c32",
		"menu.c32": mods + "menu.c32", "libutil.c32": mods + "libutil.c32", "libcom32.c32": mods + "libcom32.c32",
		"pxelinux.cfg/default": "SERIAL 0 115200\nUI menu.c32\nMENU TITLE pxekit-title\n" +
			"LABEL pxekit-first\n KERNEL k\n" +
			"MENU INCLUDE gone.cfg pxekit-tools-missing\n" +
			"MENU INCLUDE sub.cfg pxekit-tools-present\n" +
			"MENU INCLUDE ../escape.cfg pxekit-tools-outside\n" +
			"INCLUDE gone2.cfg\n" +
			"LABEL pxekit-last\n KERNEL k\n",
		"sub.cfg": "LABEL pxekit-sub\n KERNEL k\n",
	}
	root := t.TempDir()
	for name, content := range files {
		if strings.HasPrefix(content, "/") {
			data, err := os.ReadFile(content)
			if err != nil {
				testenv.Unavailable(t, "pxelinux not installed: %v", err)
			}
			content = string(data)
		}
		os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := mustResolve(t, os.DirFS(root), "pxelinux.cfg/default")
	if got, want := labels(r.Menu), "pxekit-first pxekit-tools-missing[] pxekit-tools-present[pxekit-sub] pxekit-tools-outside[] pxekit-last"; got != want {
		t.Errorf("Resolve: entries = %s, want %s", got, want)
	}
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}
	out := pxelinuxSerial(t, qemu, root, mac, func(s string) bool { return strings.Contains(s, "pxekit-last") })
	for _, e := range r.Menu.Entries {
		if !strings.Contains(out, e.Label) {
			t.Errorf("menu.c32 shows no entry %q, Resolve has one; serial output:\n%s", e.Label, out)
		}
	}
	if strings.Contains(out, "pxekit-sub") {
		t.Errorf("menu.c32 shows the submenu's entry pxekit-sub in the top menu; serial output:\n%s", out)
	}
}
