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
