package bootmenu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pxekit/pxekit/internal/testenv"
)

func mapFS(files ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(files); i += 2 {
		m[files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	return m
}

func mustResolve(t *testing.T, fsys fs.FS, name string) *Resolved {
	t.Helper()
	r, err := Resolve(fsys, name, nil)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", name, err)
	}
	return r
}

// labels lists "label:action" for each entry of m, submenus in brackets.
func labels(m *Menu) string {
	var parts []string
	for _, e := range m.Entries {
		s := e.Label
		if s == "" {
			s = e.Action.String()
		}
		if e.Default {
			s += "*"
		}
		if e.Submenu != nil {
			s += "[" + labels(e.Submenu) + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestResolveSemantics(t *testing.T) {
	fsys := mapFS(
		"main.cfg", `UI menu.c32
TIMEOUT 55
TOTALTIMEOUT 600
ONTIMEOUT local
APPEND global=1
PROMPT 0
MENU TITLE Main
LABEL linux
  MENU LABEL ^Linux 6
  KERNEL vmlinuz root=/dev/sda1
  INITRD initrd.img,extra.img
  TEXT HELP
  Boots Linux.
  ENDTEXT
LABEL noappend
  LINUX bzImage
  APPEND -
LABEL globalappend
  KERNEL other
LABEL inapp
  KERNEL k
  APPEND initrd=a.gz,b.gz quiet initrd=c.gz
LABEL local
  LOCALBOOT 0
  IPAPPEND 0x3
MENU SEPARATOR
LABEL hdt
  COM32 hdt.c32
LABEL memtest
  KERNEL memtest86+.bin
LABEL chain
  KERNEL gpxelinux.0
LABEL hidden
  MENU HIDE
  KERNEL h
LABEL -
  MENU LABEL Other:
  MENU DISABLE
MENU BEGIN sub
  MENU TITLE Sub menu
  LABEL s1
    KERNEL s1
  LABEL back
    MENU LABEL Back
    MENU EXIT
  LABEL jump
    MENU GOTO .top
MENU END
INCLUDE tagged.cfg Tagged entries
MENU INCLUDE more.cfg
DEFAULT s1
`,
		"tagged.cfg", "LABEL t1\n KERNEL t1\n",
		"more.cfg", "LABEL m1\n KERNEL m1\n MENU DEFAULT\n",
	)
	r := mustResolve(t, fsys, "main.cfg")
	if len(r.Warnings) != 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	if got, want := labels(r.Menu), "linux noappend globalappend inapp local separator hdt memtest chain hidden - sub[s1* back jump] Tagged entries[t1] m1*"; got != want {
		t.Errorf("entries = %s\nwant      %s", got, want)
	}
	if r.UI != "menu.c32" || r.Timeout != 5500*time.Millisecond || r.TotalTimeout != 60*time.Second || r.OnTimeout != "local" || r.Prompt || r.Default != "s1" {
		t.Errorf("globals = UI %q timeout %v total %v ontimeout %q prompt %v default %q", r.UI, r.Timeout, r.TotalTimeout, r.OnTimeout, r.Prompt, r.Default)
	}
	if r.Menu.Title != "Main" {
		t.Errorf("title = %q", r.Menu.Title)
	}
	e := func(label string) *Entry {
		t.Helper()
		x := r.Menu.Entry(label)
		if x == nil {
			t.Fatalf("no entry %q", label)
		}
		return x
	}
	type view struct {
		Display, Kernel, Append, Args, Help string
		Type                                Keyword
		Initrds                             []string
	}
	tests := []struct {
		label string
		want  view
	}{
		{"linux", view{"Linux 6", "vmlinuz", "root=/dev/sda1 global=1 initrd=initrd.img,extra.img", "root=/dev/sda1 global=1", "  Boots Linux.\n", KwLinux, []string{"initrd.img", "extra.img"}}},
		{"noappend", view{"noappend", "bzImage", "", "", "", KwLinux, nil}},
		{"globalappend", view{"globalappend", "other", "global=1", "global=1", "", KwLinux, nil}},
		{"inapp", view{"inapp", "k", "initrd=a.gz,b.gz quiet initrd=c.gz", "quiet", "", KwLinux, []string{"a.gz", "b.gz"}}},
		{"local", view{"local", "0", "global=1", "global=1", "", KwLocalBoot, nil}},
		{"hdt", view{"hdt", "hdt.c32", "global=1", "global=1", "", KwCom32, nil}},
		{"memtest", view{"memtest", "memtest86+.bin", "global=1", "global=1", "", KwBoot, nil}},
		{"chain", view{"chain", "gpxelinux.0", "global=1", "global=1", "", KwPXE, nil}},
		{"s1", view{"s1", "s1", "global=1", "global=1", "", KwLinux, nil}},
	}
	for _, tt := range tests {
		x := e(tt.label)
		got := view{x.Display, x.Kernel, x.Append, x.Args(), x.Help, x.Type, x.Initrds()}
		if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("entry %s (-want +got):\n%s", tt.label, d)
		}
	}
	if x := e("local"); x.IPAppend != 3 {
		t.Errorf("IPAPPEND 0x3 = %d", x.IPAppend)
	}
	if x := e("hidden"); !x.Hidden || x.Visible() {
		t.Errorf("hidden entry: Hidden=%v Visible=%v", x.Hidden, x.Visible())
	}
	if x := e("-"); !x.Disabled {
		t.Errorf("MENU DISABLE not applied")
	}
	if x := e("back"); x.Action != ActionExit {
		t.Errorf("back action = %v", x.Action)
	}
	if x := e("jump"); x.Action != ActionGoto || x.Target != ".top" {
		t.Errorf("jump = %v %q", x.Action, x.Target)
	}
	sub := r.Menu.Entries[11]
	if sub.Action != ActionSubmenu || sub.Display != "Sub menu" || sub.Submenu.Title != "Sub menu" {
		t.Errorf("submenu entry = %+v", sub)
	}
	if got := len(r.Menu.Visible()); got != 12 {
		t.Errorf("visible entries = %d, want 12 (14 less a separator and a hidden one)", got)
	}
	if d := r.Menu.DefaultEntry(); d == nil || d.Label != "m1" {
		t.Errorf("top default = %v, want m1 (MENU DEFAULT)", d)
	}
	if d := r.timeoutEntry(); d == nil || d.Label != "local" {
		t.Errorf("timeout entry = %v, want local (ONTIMEOUT)", d)
	}
	if !slices.Equal(r.Files, []string{"main.cfg", "tagged.cfg", "more.cfg"}) {
		t.Errorf("Files = %q", r.Files)
	}
}

func TestResolveSubmenuLabels(t *testing.T) {
	// MENU LABEL before any LABEL names the submenu (and titles it); MENU
	// TITLE names it only while no MENU LABEL has.
	r := mustResolve(t, mapFS("a.cfg", `MENU BEGIN one
MENU LABEL ^First
MENU DEFAULT
LABEL x
MENU END
MENU BEGIN two
MENU TITLE Second title
MENU LABEL Second
MENU END
MENU BEGIN three
MENU TITLE Third
MENU END
`), "a.cfg")
	var got []string
	for _, e := range r.Menu.Entries {
		got = append(got, fmt.Sprintf("%s|%s|%s|%v", e.Submenu.Tag, e.Display, e.Submenu.Title, e.Default))
	}
	want := []string{"one|First|First|true", "two|Second|Second title|false", "three|Third|Third|false"}
	if !slices.Equal(got, want) {
		t.Errorf("submenus = %q, want %q", got, want)
	}
}

func TestResolveDefaultIntoSubmenu(t *testing.T) {
	r := mustResolve(t, mapFS("a.cfg", "DEFAULT deep --extra\nLABEL top\n MENU DEFAULT\nMENU BEGIN s\nLABEL other\nLABEL deep\nMENU END\n"), "a.cfg")
	if got := labels(r.Menu); got != "top* s[other deep*]" {
		t.Errorf("entries = %s", got)
	}
}

func TestResolveIncludes(t *testing.T) {
	t.Run("dir and absolute names", func(t *testing.T) {
		fsys := mapFS(
			"boot/isolinux/isolinux.cfg", "include sub.cfg\nINCLUDE /boot/abs.cfg\ninclude ::boot/colons.cfg\n",
			"boot/isolinux/sub.cfg", "label sub\n",
			"boot/abs.cfg", "label abs\n",
			"boot/colons.cfg", "label colons\n",
		)
		r, err := Resolve(fsys, "boot/isolinux/isolinux.cfg", &ResolveOptions{Dir: "boot/isolinux"})
		if err != nil {
			t.Fatal(err)
		}
		if got := labels(r.Menu); got != "sub abs colons" {
			t.Errorf("entries = %s", got)
		}
	})
	t.Run("missing include is a warning", func(t *testing.T) {
		r := mustResolve(t, mapFS("a.cfg", "label a\ninclude gone.cfg\ninclude ../escape.cfg\ninclude http://x/y.cfg\nlabel b\n"), "a.cfg")
		if got := labels(r.Menu); got != "a b" {
			t.Errorf("entries = %s", got)
		}
		if len(r.Warnings) != 3 || !errors.Is(r.Warnings[0], ErrMissingInclude) || !errors.Is(r.Warnings[1], ErrBadInclude) || !errors.Is(r.Warnings[2], ErrBadInclude) {
			t.Fatalf("warnings = %v", r.Warnings)
		}
		if got := r.Warnings[0].Error(); !strings.Contains(got, "a.cfg:2:1") {
			t.Errorf("warning %q lacks file:line:col", got)
		}
	})
	t.Run("label continues across include", func(t *testing.T) {
		r := mustResolve(t, mapFS("a.cfg", "label a\ninclude k.cfg\n", "k.cfg", "kernel from-include\n"), "a.cfg")
		if e := r.Menu.Entry("a"); e == nil || e.Kernel != "from-include" {
			t.Errorf("entry a = %+v", e)
		}
	})
	t.Run("unbalanced menus", func(t *testing.T) {
		r := mustResolve(t, mapFS("a.cfg", "menu end\nmenu begin x\nlabel in\n"), "a.cfg")
		if len(r.Warnings) != 2 || !errors.Is(r.Warnings[0], ErrUnbalanced) || !errors.Is(r.Warnings[1], ErrUnbalanced) {
			t.Errorf("warnings = %v", r.Warnings)
		}
		if got := labels(r.Menu); got != "x[in]" {
			t.Errorf("entries = %s", got)
		}
	})
	t.Run("balanced across files", func(t *testing.T) {
		r := mustResolve(t, mapFS("a.cfg", "include open.cfg\ninclude close.cfg\nlabel after\n",
			"open.cfg", "menu begin x\nlabel in\n", "close.cfg", "menu end\n"), "a.cfg")
		if len(r.Warnings) != 0 || labels(r.Menu) != "x[in] after" {
			t.Errorf("entries = %s, warnings = %v", labels(r.Menu), r.Warnings)
		}
	})
}

func TestResolveErrors(t *testing.T) {
	chain := fstest.MapFS{}
	for i := range 30 {
		chain[fmt.Sprintf("c%d.cfg", i)] = &fstest.MapFile{Data: fmt.Appendf(nil, "label l%d\ninclude c%d.cfg\n", i, i+1)}
	}
	bomb := fstest.MapFS{}
	for i := range 12 {
		bomb[fmt.Sprintf("b%d.cfg", i)] = &fstest.MapFile{Data: fmt.Appendf(nil, "include b%d.cfg\ninclude b%d.cfg\n", i+1, i+1)}
	}
	tests := []struct {
		name string
		fsys fs.FS
		file string
		want error
		msg  string
	}{
		{"self include", mapFS("a.cfg", "# x\ninclude a.cfg\n"), "a.cfg", ErrIncludeCycle, "a.cfg:2:1"},
		{"cycle", mapFS("a.cfg", "include b.cfg\n", "b.cfg", "\n  menu include a.cfg tag\n"), "a.cfg", ErrIncludeCycle, "b.cfg:2:3"},
		{"depth", chain, "c0.cfg", ErrIncludeDepth, "c15.cfg:2:1"},
		{"too many files", bomb, "b0.cfg", ErrTooManyFiles, ""},
		{"syntax error in include", mapFS("a.cfg", "include b.cfg\n", "b.cfg", "label x\ntext help\n"), "a.cfg", ErrSyntax, "b.cfg:2:1"},
		{"missing top file", mapFS(), "nope.cfg", fs.ErrNotExist, ""},
		{"too many entries", mapFS("a.cfg", "include b.cfg\ninclude b.cfg\ninclude b.cfg\n", "b.cfg", strings.Repeat("menu separator\n", MaxEntries/2)), "a.cfg", ErrTooLarge, "b.cfg:"},
		{"menu depth", mapFS("a.cfg", strings.Repeat("menu begin\n", MaxMenuDepth+1)), "a.cfg", ErrMenuDepth, fmt.Sprintf("a.cfg:%d:1", MaxMenuDepth+1)},
		{"large include", mapFS("a.cfg", "\n\ninclude big.cfg\n", "big.cfg", strings.Repeat("#\n", DefaultMaxFileSize)), "a.cfg", ErrFileTooLarge, "a.cfg:3:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.fsys, tt.file, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Resolve error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q lacks %q", err, tt.msg)
			}
		})
	}
}

// debianRoot is where debian-installer-12-netboot-amd64 puts its netboot
// trees; pxelinux looks for files relative to text/ or gtk/.
const debianRoot = "/usr/lib/debian-installer/images/12/amd64"

func debianTree(t *testing.T, flavour string) string {
	t.Helper()
	dir := filepath.Join(debianRoot, flavour)
	if _, err := os.Stat(filepath.Join(dir, "pxelinux.cfg", "default")); err != nil {
		testenv.Unavailable(t, "debian-installer-12-netboot-amd64 not installed: %v", err)
	}
	return dir
}

func TestDebianInstaller(t *testing.T) {
	for _, flavour := range []string{"text", "gtk"} {
		t.Run(flavour, func(t *testing.T) {
			dir := debianTree(t, flavour)
			r := mustResolve(t, os.DirFS(dir), "pxelinux.cfg/default")
			for _, w := range r.Warnings {
				if !errors.Is(w, ErrMissingInclude) {
					t.Errorf("unexpected warning: %v", w)
				}
			}
			if !strings.HasPrefix(r.Menu.Title, "Debian GNU/Linux installer menu") {
				t.Errorf("title = %q", r.Menu.Title)
			}
			if !strings.HasSuffix(r.Default, "vesamenu.c32") {
				t.Errorf("default = %q", r.Default)
			}
			inst := r.Menu.Entry("install")
			if inst == nil {
				t.Fatal("no install entry")
			}
			if inst.Kernel != "debian-installer/amd64/linux" || !slices.Equal(inst.Initrds(), []string{"debian-installer/amd64/initrd.gz"}) {
				t.Errorf("install = kernel %q initrds %q", inst.Kernel, inst.Initrds())
			}
			// The kernel and initrd the menu names exist in the tree.
			for _, f := range append([]string{inst.Kernel}, inst.Initrds()...) {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("menu names %s: %v", f, err)
				}
			}
			var adv *Entry
			for _, e := range r.Menu.Entries {
				if e.Action == ActionSubmenu && e.Submenu.Tag == "advanced" {
					adv = e
				}
			}
			if adv == nil || adv.Display != "Advanced options" {
				t.Fatalf("advanced submenu = %+v", adv)
			}
			if adv.Submenu.Entry("expert") == nil || adv.Submenu.Entry("rescue") == nil || adv.Submenu.Entries[0].Action != ActionExit {
				t.Errorf("advanced entries = %s", labels(adv.Submenu))
			}
			help := r.Menu.Entry("help")
			if help == nil || help.Type != KwConfig || !strings.Contains(help.Help, "Display help screens") {
				t.Errorf("help entry = %+v", help)
			}
			if flavour == "gtk" {
				// The gtk tree adds speech synthesis entries and an
				// ONTIMEOUT command line that is not a label.
				if r.Menu.Entry("installspk") == nil || r.Timeout != 30*time.Second || !strings.Contains(r.OnTimeout, "speakup.synth=soft") {
					t.Errorf("gtk tree: entries %s, timeout %v, ontimeout %q", labels(r.Menu), r.Timeout, r.OnTimeout)
				}
			}
		})
	}
}

// TestDebianFiles round-trips every .cfg file of the package and resolves
// every pxelinux one.
func TestDebianFiles(t *testing.T) {
	debianTree(t, "text")
	n := 0
	err := filepath.WalkDir(debianRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !strings.HasSuffix(p, ".cfg") {
			return err
		}
		n++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c, err := Parse(data)
		if err != nil {
			t.Errorf("Parse(%s): %v", p, err)
			return nil
		}
		if out := c.String(); out != string(data) {
			t.Errorf("%s does not round-trip:\n%s", p, firstDiff([]byte(out), data))
		}
		if strings.Contains(p, "/grub/") {
			return nil // GRUB's own configuration, not pxelinux syntax
		}
		rel, _ := filepath.Rel(debianRoot, p)
		flavour := strings.SplitN(rel, string(filepath.Separator), 2)[0]
		name, _ := filepath.Rel(filepath.Join(debianRoot, flavour), p)
		if _, err := Resolve(os.DirFS(filepath.Join(debianRoot, flavour)), filepath.ToSlash(name), nil); err != nil {
			t.Errorf("Resolve(%s): %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Errorf("found %d .cfg files, want at least 30", n)
	}
}

func TestCorpusResolve(t *testing.T) {
	for _, cf := range corpus(t, "config") {
		t.Run(cf.name, func(t *testing.T) {
			full := filepath.Join(corpusDir, cf.name)
			r, err := Resolve(os.DirFS(filepath.Dir(full)), filepath.Base(full), nil)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			for _, w := range r.Warnings {
				if !errors.Is(w, ErrMissingInclude) && !errors.Is(w, ErrUnbalanced) && !errors.Is(w, ErrBadInclude) {
					t.Errorf("unexpected warning: %v", w)
				}
			}
			checkConfigRoundTrip(t, r)
		})
	}
}

// cmpResolved compares resolved views, ignoring where entries came from.
var cmpResolved = []cmp.Option{
	cmpopts.IgnoreFields(Entry{}, "File", "Pos"),
	cmpopts.IgnoreFields(Resolved{}, "Files", "Warnings"),
	cmpopts.IgnoreUnexported(Entry{}),
	cmpopts.EquateEmpty(),
}

// checkConfigRoundTrip renders r as one pxelinux file, reads it back and
// wants the same menu.
func checkConfigRoundTrip(t *testing.T, r *Resolved) {
	t.Helper()
	text, err := r.Config().MarshalText()
	if err != nil {
		t.Fatalf("Config().MarshalText: %v", err)
	}
	c, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(Config()): %v\n%s", err, text)
	}
	back, err := ResolveConfig(nil, c, "flat.cfg", nil)
	if err != nil {
		t.Fatalf("ResolveConfig: %v", err)
	}
	if d := cmp.Diff(r, back, cmpResolved...); d != "" {
		t.Errorf("resolved menu changes through Config() (-orig +back):\n%s\n%s", d, text)
	}
	// Rendering is idempotent.
	again, err := back.Config().MarshalText()
	if err != nil || !bytes.Equal(again, text) {
		t.Errorf("Config() of its own output differs (err %v):\n%s", err, firstDiff(again, text))
	}
}

func TestFSPath(t *testing.T) {
	tests := []struct {
		dir, name, want string
		ok              bool
	}{
		{"isolinux", "vmlinuz", "isolinux/vmlinuz", true},
		{"isolinux", "/casper/vmlinuz", "casper/vmlinuz", true},
		{"isolinux", "::casper/vmlinuz", "casper/vmlinuz", true},
		{"isolinux", "../boot/x", "boot/x", true},
		{"", "a/./b//c", "a/b/c", true},
		{"", "../x", "", false},
		{"", "http://h/x", "", false},
		{"", "/", "", false},
	}
	for _, tt := range tests {
		got, ok := FSPath(tt.dir, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FSPath(%q, %q) = %q, %v; want %q, %v", tt.dir, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMenuAll(t *testing.T) {
	r := mustResolve(t, mapFS("a.cfg", "LABEL a\nMENU BEGIN s\nLABEL b\nMENU BEGIN t\nLABEL c\nMENU END\nMENU END\nLABEL d\n"), "a.cfg")
	var got []string
	for m, e := range r.Menu.All() {
		got = append(got, m.Tag+":"+e.Label)
	}
	if want := ":a :s s:b s:t t:c :d"; strings.Join(got, " ") != want {
		t.Errorf("All() = %q, want %q", strings.Join(got, " "), want)
	}
	got = got[:0]
	for _, e := range r.Menu.All() {
		got = append(got, e.Label)
		if e.Label == "b" {
			break
		}
	}
	if strings.Join(got, " ") != "a s b" {
		t.Errorf("All() stopped at b = %q", got)
	}
}
