package bootmenu

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pxekit/pxekit/internal/testenv"
)

// grubSeeds is the directory of real GRUB configurations (see its README).
const grubSeeds = "testdata/grub"

// gentry is what a test expects of a resolved entry.
type gentry struct {
	Depth   int // 0 top level, 1 in a submenu, …
	Action  Action
	Display string
	Label   string
	Kernel  string
	Args    string
	Initrds []string
	Default bool
}

// flatten lists the entries of r depth first, with their depth.
func flatten(r *Resolved) []gentry {
	var out []gentry
	var walk func(m *Menu, d int)
	walk = func(m *Menu, d int) {
		for _, e := range m.Entries {
			out = append(out, gentry{Depth: d, Action: e.Action, Display: e.Display, Label: e.Label, Kernel: e.Kernel, Args: e.Args(), Initrds: e.Initrds(), Default: e.Default})
			if e.Submenu != nil {
				walk(e.Submenu, d+1)
			}
		}
	}
	walk(r.Menu, 0)
	return out
}

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(grubSeeds, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResolveGRUBRealFiles(t *testing.T) {
	ubuntu := func(memtest string) []gentry {
		return []gentry{
			{Action: ActionBoot, Display: "Try or Install Ubuntu Server", Label: "Try-or-Install-Ubuntu-Server", Kernel: "/casper/vmlinuz", Args: "---", Initrds: []string{"/casper/initrd"}, Default: true},
			{Action: ActionBoot, Display: "Ubuntu Server with the HWE kernel", Label: "Ubuntu-Server-with-the-HWE-kernel", Kernel: "/casper/hwe-vmlinuz", Args: "---", Initrds: []string{"/casper/hwe-initrd"}},
			// 'Boot from next volume' (exit 1) and 'UEFI Firmware
			// Settings' (fwsetup) of the efi branch boot no kernel.
			{Action: ActionBoot, Display: "Test memory", Label: "Test-memory", Kernel: "/boot/" + memtest},
		}
	}
	arch := func(medium, extra string) []gentry {
		return []gentry{
			{Action: ActionBoot, Display: "Arch Linux install medium (%ARCH%, UEFI)", Label: "archlinux", Kernel: "/%INSTALL_DIR%/boot/%ARCH%/vmlinuz-linux",
				Args: "archisobasedir=%INSTALL_DIR% " + medium, Initrds: []string{"/%INSTALL_DIR%/boot/%ARCH%/initramfs-linux.img"}, Default: true},
			{Action: ActionBoot, Display: "Arch Linux install medium with speakup screen reader (%ARCH%, UEFI)", Label: "archlinux-accessibility", Kernel: "/%INSTALL_DIR%/boot/%ARCH%/vmlinuz-linux",
				Args: "archisobasedir=%INSTALL_DIR% " + medium + " accessibility=on" + extra, Initrds: []string{"/%INSTALL_DIR%/boot/%ARCH%/initramfs-linux.img"}},
			{Action: ActionBoot, Display: "Run Memtest86+ (RAM test)", Label: "Run-Memtest86-RAM-test", Kernel: "/boot/memtest86+/memtest.efi"},
			{Action: ActionBoot, Display: "Run Memtest86+ (RAM test)", Label: "Run-Memtest86-RAM-test-2", Kernel: "/boot/memtest86+/memtest"},
		}
	}
	fedora := func(linux string) []gentry {
		k, i := "/images/pxeboot/vmlinuz", []string{"/images/pxeboot/initrd.img"}
		s2 := "inst.stage2=hd:LABEL=Fedora-rawhide-test"
		return []gentry{
			{Action: ActionBoot, Display: "Install Fedora rawhide", Label: "Install-Fedora-rawhide", Kernel: k, Args: s2 + " console=ttyUSB0 quiet", Initrds: i},
			// set default="1"
			{Action: ActionBoot, Display: "Test this media & install Fedora rawhide", Label: "Test-this-media-install-Fedora-rawhide", Kernel: k, Args: s2 + " rd.live.check quiet", Initrds: i, Default: true},
			{Action: ActionSubmenu, Display: "Troubleshooting -->", Label: "Troubleshooting"},
			{Depth: 1, Action: ActionBoot, Display: "Install Fedora rawhide in basic graphics mode", Label: "Install-Fedora-rawhide-in-basic-graphics-mode", Kernel: k, Args: s2 + " nomodeset quiet", Initrds: i},
			{Depth: 1, Action: ActionBoot, Display: "Rescue a Fedora system", Label: "Rescue-a-Fedora-system", Kernel: k, Args: s2 + " inst.rescue quiet", Initrds: i},
		}
	}
	tests := []struct {
		file        string
		want        []gentry
		def         string
		timeout     time.Duration
		wantWarning error
	}{
		{"ubuntu/ubuntu-22.04-live-server.grub.cfg", ubuntu("memtest86+.bin"), "Try-or-Install-Ubuntu-Server", 30 * time.Second, ErrGRUBNotLinux},
		{"ubuntu/ubuntu-24.04-live-server.grub.cfg", ubuntu("memtest86+x64.bin"), "Try-or-Install-Ubuntu-Server", 30 * time.Second, ErrGRUBConditional},
		// default=archlinux names the --id; the archiso_platform of the
		// first branch (UEFI) wins; archisosearchuuid stays a template.
		{"archiso/releng-grub.cfg", arch("archisosearchuuid=%ARCHISO_UUID%", ""), "archlinux", 15 * time.Second, ErrGRUBVariable},
		// loopback.cfg: iso_path and the probed UUID are set by the
		// GRUB that loops the ISO, not in the file: dropped.
		{"archiso/releng-loopback.cfg", arch("img_dev=UUID= img_loop=", ""), "archlinux", 15 * time.Second, ErrGRUBVariable},
		{"lorax/mkksiso-uefi-grub.cfg", fedora("linuxefi"), "Test-this-media-install-Fedora-rawhide", time.Minute, nil},
		{"lorax/mkksiso-bios-grub.cfg", fedora("linux"), "Test-this-media-install-Fedora-rawhide", time.Minute, nil},
		{"lorax/grub2-efi.cfg", []gentry{
			{Action: ActionBoot, Display: "Install @PRODUCT@ @VERSION@", Label: "Install-PRODUCT-VERSION", Kernel: "/@KERNELPATH@", Args: "@ROOT@ quiet", Initrds: []string{"/@INITRDPATH@"}},
			{Action: ActionBoot, Display: "Test this media & install @PRODUCT@ @VERSION@", Label: "Test-this-media-install-PRODUCT-VERSION", Kernel: "/@KERNELPATH@", Args: "@ROOT@ rd.live.check quiet", Initrds: []string{"/@INITRDPATH@"}, Default: true},
			{Action: ActionSubmenu, Display: "Troubleshooting -->", Label: "Troubleshooting"},
			{Depth: 1, Action: ActionBoot, Display: "Install @PRODUCT@ @VERSION@ in basic graphics mode", Label: "Install-PRODUCT-VERSION-in-basic-graphics-mode", Kernel: "/@KERNELPATH@", Args: "@ROOT@ nomodeset quiet", Initrds: []string{"/@INITRDPATH@"}},
			{Depth: 1, Action: ActionBoot, Display: "Rescue a @PRODUCT@ system", Label: "Rescue-a-PRODUCT-system", Kernel: "/@KERNELPATH@", Args: "@ROOT@ inst.rescue quiet", Initrds: []string{"/@INITRDPATH@"}},
		}, "Test-this-media-install-PRODUCT-VERSION", time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := ResolveGRUB(os.DirFS(grubSeeds), tt.file, nil)
			if err != nil {
				t.Fatalf("ResolveGRUB(%s): %v", tt.file, err)
			}
			if d := cmp.Diff(tt.want, flatten(r)); d != "" {
				t.Errorf("ResolveGRUB(%s) entries (-want +got):\n%s", tt.file, d)
			}
			if r.Default != tt.def || r.Timeout != tt.timeout {
				t.Errorf("ResolveGRUB(%s): Default %q, Timeout %v; want %q, %v", tt.file, r.Default, r.Timeout, tt.def, tt.timeout)
			}
			if tt.wantWarning != nil && !hasWarning(r, tt.wantWarning) {
				t.Errorf("ResolveGRUB(%s): no %v among warnings %v", tt.file, tt.wantWarning, r.Warnings)
			}
		})
	}
}

func hasWarning(r *Resolved, target error) bool {
	for _, w := range r.Warnings {
		if errors.Is(w, target) {
			return true
		}
	}
	return false
}

// liveBuildTree lays out live-build's GRUB files as binary_grub-pc puts
// them on an image: boot/grub/, with install.cfg and install_start.cfg
// the graphical installer's, the @…@ placeholders left as they are.
func liveBuildTree(t testing.TB) fstest.MapFS {
	m := fstest.MapFS{}
	for dst, src := range map[string]string{
		"boot/grub/grub.cfg":          "grub.cfg",
		"boot/grub/config.cfg":        "config.cfg",
		"boot/grub/theme.cfg":         "theme.cfg",
		"boot/grub/memtest.cfg":       "memtest.cfg",
		"boot/grub/install.cfg":       "install_gui.cfg",
		"boot/grub/install_start.cfg": "install_start_gui.cfg",
	} {
		m[dst] = &fstest.MapFile{Data: readSeed(t, "live-build/"+src)}
	}
	return m
}

func TestResolveGRUBLiveBuildSources(t *testing.T) {
	r, err := ResolveGRUB(liveBuildTree(t), "boot/grub/grub.cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(r)
	var titles []string
	for _, e := range got {
		titles = append(titles, strings.Repeat(">", e.Depth)+e.Display)
	}
	want := []string{
		"Start installer", "Start installer with speech synthesis",
		"Advanced install options ...",
		">Graphical installer ...", ">>Install", ">>Expert install", ">>Automated install", ">>Rescue mode",
		">Text installer ...", ">>Install", ">>Expert install", ">>Automated install", ">>Rescue mode",
		">Graphical installer with dark theme ...", ">>Install", ">>Expert install", ">>Automated install", ">>Rescue mode",
		">Text installer with dark theme ...", ">>Install", ">>Expert install", ">>Automated install", ">>Rescue mode",
		">Installer with speech synthesis ...", ">>Install", ">>Expert install", ">>Automated install", ">>Rescue mode",
		"Utilities...",
		">Memory Diagnostic Tool (@MEMTEST_VERSION@)", ">Memory Diagnostic Tool (@MEMTEST_VERSION@)",
		">Memory Diagnostic Tool (@MEMTEST_VERSION@)", ">Memory Diagnostic Tool (@MEMTEST_VERSION@)",
		">Verify integrity of the boot medium",
	}
	if d := cmp.Diff(want, titles); d != "" {
		t.Errorf("live-build menu (-want +got):\n%s", d)
	}
	if e := r.Menu.Entries[0]; e.Kernel != "/@KERNEL_GI@" || e.Args() != "vga=788 @APPEND_INSTALL@ --- quiet" || !e.Default {
		t.Errorf("first entry = %+v", e)
	}
	wantFiles := []string{"boot/grub/grub.cfg", "boot/grub/config.cfg", "boot/grub/theme.cfg", "boot/grub/install_start.cfg", "boot/grub/install.cfg", "boot/grub/memtest.cfg"}
	if d := cmp.Diff(wantFiles, r.Files); d != "" {
		t.Errorf("Files (-want +got):\n%s", d)
	}
	// Labels are unique across the tree, so DEFAULT and pxelinux
	// LABEL lines stay unambiguous.
	seen := map[string]bool{}
	for _, e := range r.Menu.All() {
		if seen[e.Label] {
			t.Errorf("label %q twice", e.Label)
		}
		seen[e.Label] = true
	}
}

func resolveGRUBString(t *testing.T, src string, extra fstest.MapFS, opts *GRUBResolveOptions) *Resolved {
	t.Helper()
	m := fstest.MapFS{"boot/grub/grub.cfg": &fstest.MapFile{Data: []byte(src)}}
	for k, v := range extra {
		m[k] = v
	}
	r, err := ResolveGRUB(m, "boot/grub/grub.cfg", opts)
	if err != nil {
		t.Fatalf("ResolveGRUB(%q): %v", src, err)
	}
	return r
}

func TestResolveGRUBQuoting(t *testing.T) {
	tests := []struct {
		name, src string
		title     string
		kernel    string
		args      string
	}{
		{"single quotes keep everything", `menuentry 'a $x "b" \n' { linux /k 'x=$y;z' }`, `a $x "b" \n`, "/k", "x=$y;z"},
		{"double quotes expand", `set v="1 2"` + "\n" + `menuentry "t $v \"q\" \$v \\" { linux /k "a=$v" }`, `t 1 2 "q" $v \`, "/k", `"a=1 2"`},
		{"backslash outside quotes", `menuentry t\ u { linux /k ds=nocloud\;s=/cdrom/ a\ b }`, "t u", "/k", `ds=nocloud;s=/cdrom/ "a b"`},
		{"braces as variable", `set root=hd0` + "\n" + `menuentry x { linux (${root})/vmlinuz r=${root}x }`, "x", "/vmlinuz", "r=hd0x"},
		{"line continuation", "menuentry x {\n linux /k a \\\n b\n}", "x", "/k", "a b"},
		{"comment", "# menuentry no { linux /no }\nmenuentry x { # c\n linux /k a#b # c\n}", "x", "/k", "a#b"},
		{"semicolons", `menuentry x { insmod gzio; linux /k a; initrd /i; }`, "x", "/k", "a"},
		{"unquoted var splits", "set o='a  b'\nmenuentry x { linux /k $o }", "x", "/k", "a b"},
		{"menuentry args", `menuentry "T" "/iso/x.iso" --class c { linux /k iso=$2 t=$1 }`, "T", "/k", "iso=/iso/x.iso t=T"},
		{"assignment statement", "k=/casper/vmlinuz\nmenuentry x { linux $k }", "x", "/casper/vmlinuz", ""},
		{"linuxefi", "menuentry x {\n\tlinuxefi /images/vmlinuz q\n\tinitrdefi /i\n}", "x", "/images/vmlinuz", "q"},
		{"entry-local set", "menuentry x { set a=1; linux /k a=$a }\nmenuentry y { linux /k a=$a }", "x", "/k", "a=1"},
		{"dollar alone", `menuentry x { linux /k a=$ b=$- }`, "x", "/k", "a=$ b=$-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolveGRUBString(t, tt.src, nil, nil)
			if len(r.Menu.Entries) == 0 {
				t.Fatalf("ResolveGRUB(%q): no entries, warnings %v", tt.src, r.Warnings)
			}
			e := r.Menu.Entries[0]
			if e.Display != tt.title || e.Kernel != tt.kernel || e.Args() != tt.args {
				t.Errorf("ResolveGRUB(%q) = %q %q %q, want %q %q %q", tt.src, e.Display, e.Kernel, e.Args(), tt.title, tt.kernel, tt.args)
			}
		})
	}
}

func TestResolveGRUBVariables(t *testing.T) {
	src := "set a=$prefix/x\nmenuentry x { linux $prefix/vmlinuz ${isofile} iso-scan/filename=$isofile }"
	r := resolveGRUBString(t, src, nil, nil)
	e := r.Menu.Entries[0]
	if e.Kernel != "/vmlinuz" || e.Args() != "iso-scan/filename=" {
		t.Errorf("unset variables: kernel %q args %q", e.Kernel, e.Args())
	}
	var names []string
	for _, w := range r.Warnings {
		if errors.Is(w, ErrGRUBVariable) {
			names = append(names, w.Error()[strings.LastIndex(w.Error(), "$"):])
		}
	}
	if d := cmp.Diff([]string{"$prefix", "$isofile"}, names); d != "" {
		t.Errorf("variable warnings, once per name (-want +got):\n%s", d)
	}
	r = resolveGRUBString(t, src, nil, &GRUBResolveOptions{Vars: map[string]string{"prefix": "(cd0)/boot/grub", "isofile": "/u.iso"}})
	if e := r.Menu.Entries[0]; e.Kernel != "/boot/grub/vmlinuz" || e.Args() != "/u.iso iso-scan/filename=/u.iso" || len(r.Warnings) != 0 {
		t.Errorf("preset variables: kernel %q args %q warnings %v", e.Kernel, e.Args(), r.Warnings)
	}
}

func TestResolveGRUBConditionals(t *testing.T) {
	src := `
if [ "$grub_platform" = efi ]; then
  set p=UEFI
  menuentry a { linux /a }
elif [ x = y ]; then set p=other; set q=2
else
  set p=BIOS
  menuentry b { linux /b p=$p }
fi
menuentry "c $p $q" { linux /c }
function f { menuentry never { linux /never } }
for i in 1 2; do menuentry "loop $i" { linux /l }; done
`
	r := resolveGRUBString(t, src, nil, nil)
	var got []string
	for _, e := range r.Menu.Entries {
		got = append(got, e.Display+"|"+e.Args())
	}
	// Every branch's entries; a variable keeps its first branch's value.
	want := []string{"a|", "b|p=BIOS", "c UEFI 2|", "loop |"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if !hasWarning(r, ErrGRUBConditional) || !hasWarning(r, ErrGRUBLoop) {
		t.Errorf("warnings %v: want conditional and loop", r.Warnings)
	}
}

func TestResolveGRUBDefault(t *testing.T) {
	menu := `
menuentry zero --id z0 { fwsetup }
menuentry one --id=i1 { linux /1 }
submenu two { menuentry inner0 { linux /s0 }; menuentry inner1 --id deep { linux /s1 } }
menuentry "three 3" { linux /3 }
`
	tests := []struct{ def, want string }{
		{"1", "i1"},
		{`"1"`, "i1"},
		{"i1", "i1"},
		{"'three 3'", "three-3"},
		{"2>1", "deep"},
		{"two>inner0", "inner0"},
		{"0", ""}, // fwsetup: left out, counted
		{"9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.def, func(t *testing.T) {
			r := resolveGRUBString(t, "set default="+tt.def+"\n"+menu, nil, nil)
			if r.Default != tt.want {
				t.Errorf("set default=%s: Default %q, want %q", tt.def, r.Default, tt.want)
			}
			if tt.want == "" && !hasWarning(r, ErrGRUBDefault) {
				t.Errorf("set default=%s: no ErrGRUBDefault warning in %v", tt.def, r.Warnings)
			}
			if tt.want != "" {
				if e := r.Menu.Entry(tt.want); e == nil || !e.Default || r.Menu.Entry(tt.want).menuOwner.DefaultEntry() != e {
					t.Errorf("set default=%s: entry %q not its menu's default", tt.def, tt.want)
				}
			}
		})
	}
	for _, tt := range []struct {
		src  string
		want time.Duration
	}{{"set timeout=5", 5 * time.Second}, {"timeout=-1", 0}, {"set timeout=x", 0}, {"", 0}} {
		if r := resolveGRUBString(t, tt.src+"\n"+menu, nil, nil); r.Timeout != tt.want {
			t.Errorf("%q: Timeout %v, want %v", tt.src, r.Timeout, tt.want)
		}
	}
}

func TestResolveGRUBIncludes(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	t.Run("source and configfile", func(t *testing.T) {
		r := resolveGRUBString(t, "set prefix=($root)/boot/grub\nsource $prefix/a.cfg\nmenuentry more { configfile /boot/grub/b.cfg }\nsource /missing.cfg\n",
			fstest.MapFS{
				"boot/grub/a.cfg": file("set x=1\nmenuentry a { linux /a x=$x }"),
				"boot/grub/b.cfg": file("menuentry b { linux /b }"),
			}, nil)
		got := flatten(r)
		want := []gentry{
			{Action: ActionBoot, Display: "a", Label: "a", Kernel: "/a", Args: "x=1", Default: true},
			{Action: ActionSubmenu, Display: "more", Label: "more"},
			{Depth: 1, Action: ActionBoot, Display: "b", Label: "b", Kernel: "/b"},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if !hasWarning(r, ErrMissingInclude) {
			t.Errorf("no missing-include warning in %v", r.Warnings)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		m := fstest.MapFS{"a.cfg": file("source /b.cfg"), "b.cfg": file("source /a.cfg")}
		if _, err := ResolveGRUB(m, "a.cfg", nil); !errors.Is(err, ErrIncludeCycle) {
			t.Errorf("cycle: %v, want ErrIncludeCycle", err)
		}
	})
	t.Run("depth", func(t *testing.T) {
		m := fstest.MapFS{}
		for i := range 10 {
			m[string(rune('a'+i))+".cfg"] = file("source /" + string(rune('a'+i+1)) + ".cfg")
		}
		if _, err := ResolveGRUB(m, "a.cfg", &GRUBResolveOptions{MaxDepth: 4}); !errors.Is(err, ErrIncludeDepth) {
			t.Errorf("depth: %v, want ErrIncludeDepth", err)
		}
	})
	t.Run("files", func(t *testing.T) {
		m := fstest.MapFS{"a.cfg": file(strings.Repeat("source /b.cfg\n", 20)), "b.cfg": file("")}
		if _, err := ResolveGRUB(m, "a.cfg", &GRUBResolveOptions{MaxFiles: 5}); !errors.Is(err, ErrTooManyFiles) {
			t.Errorf("files: %v, want ErrTooManyFiles", err)
		}
	})
	t.Run("size", func(t *testing.T) {
		m := fstest.MapFS{"a.cfg": file(strings.Repeat("#", 100))}
		if _, err := ResolveGRUB(m, "a.cfg", &GRUBResolveOptions{MaxFileSize: 99}); !errors.Is(err, ErrFileTooLarge) {
			t.Errorf("size: %v, want ErrFileTooLarge", err)
		}
	})
	t.Run("missing top file", func(t *testing.T) {
		if _, err := ResolveGRUB(fstest.MapFS{}, "grub.cfg", nil); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("missing: %v, want fs.ErrNotExist", err)
		}
	})
}

func TestResolveGRUBBounds(t *testing.T) {
	// Doubling a variable 40 times would make a value of 2^40 bytes.
	src := "set a=xxxxxxxx\n" + strings.Repeat("set a=$a$a\n", 40) + "menuentry x { linux /k $a }"
	r, err := ResolveGRUB(fstest.MapFS{"g.cfg": {Data: []byte(src)}}, "g.cfg", nil)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("doubling: %v", err)
	}
	if err == nil && len(r.Menu.Entries[0].Append) > 2*maxGRUBValue {
		t.Errorf("doubling: command line of %d bytes", len(r.Menu.Entries[0].Append))
	}
	// Expansions that would make gigabytes stop at the bounds.
	big := strings.Repeat("x", 60000)
	words := strings.Repeat("x ", 30000)
	for name, src := range map[string]string{
		"one word":    "set a=" + big + "\nmenuentry x { linux /k \"" + strings.Repeat("$a", 300000) + "\" }",
		"many words":  "set a='" + words + "'\nmenuentry x { linux /k" + strings.Repeat(" $a", 300000) + " }",
		"all entries": "set a=" + big + "\n" + strings.Repeat("menuentry x { linux /k $a }\n", 400),
	} {
		_, err := ResolveGRUB(fstest.MapFS{"g.cfg": {Data: []byte(src)}}, "g.cfg", nil)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
	}
	deep := strings.Repeat("submenu s {\n", MaxMenuDepth+2) + strings.Repeat("}\n", MaxMenuDepth+2)
	var pe *ParseError
	if _, err := ResolveGRUB(fstest.MapFS{"g.cfg": {Data: []byte(deep)}}, "g.cfg", nil); !errors.As(err, &pe) {
		t.Errorf("deep nesting: %v, want a *ParseError", err)
	}
}

// grubBroken are files that GRUB cannot parse either.
var grubBroken = []string{
	"menuentry 'x { linux /k }",
	`menuentry "x { linux /k }`,
	"menuentry x { linux /k",
	"fi",
	"if true; then menuentry x { linux /k }",
	"}",
	"while true; menuentry x { linux /k }; done",
}

func TestResolveGRUBParseErrors(t *testing.T) {
	for _, src := range grubBroken {
		_, err := ResolveGRUB(fstest.MapFS{"g.cfg": {Data: []byte(src)}}, "g.cfg", nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "g.cfg" || pe.Line < 1 {
			t.Errorf("ResolveGRUB(%q) = %v, want a *ParseError in g.cfg", src, err)
		}
	}
}

// TestGRUBScriptCheckAgrees has GRUB's own parser judge the same files:
// what grub-script-check accepts, ResolveGRUB must read, and the broken
// files of TestResolveGRUBParseErrors must be broken for GRUB too.
func TestGRUBScriptCheckAgrees(t *testing.T) {
	check := testenv.NeedCommand(t, "grub-script-check")[0]
	tmp := filepath.Join(t.TempDir(), "grub.cfg")
	accepts := func(src []byte) bool {
		if err := os.WriteFile(tmp, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.Command(check, tmp).Run() == nil
	}
	var good [][]byte
	for _, b := range grubSeedFiles(t) {
		good = append(good, b)
	}
	for _, s := range []string{
		`menuentry 'a $x "b" \n' { linux /k 'x=$y;z' }`,
		"set v=\"1 2\"\nmenuentry \"t $v \\\"q\\\" \\$v \\\\\" { linux /k \"a=$v\" }",
		`menuentry t\ u { linux /k ds=nocloud\;s=/cdrom/ a\ b }`,
		"menuentry x {\n linux /k a \\\n b\n}",
		"menuentry x linux /k",
		"for i in 1 2; do menuentry \"loop $i\" { linux /l }; done",
		"if a; then menuentry a { linux /a }; elif b; then set p=1; else menuentry b { linux /b }; fi",
		"function f { insmod x; }\nf",
	} {
		good = append(good, []byte(s))
	}
	for _, src := range good {
		if !accepts(src) {
			t.Errorf("grub-script-check rejects test input %q", src)
			continue
		}
		m := fstest.MapFS{"g.cfg": {Data: src}}
		r, err := ResolveGRUB(m, "g.cfg", nil)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				t.Errorf("GRUB accepts %q, ResolveGRUB: %v", src, err)
			}
			continue
		}
		// And the menu rendered back for GRUB is GRUB script again.
		var out bytes.Buffer
		if err := RenderGRUB(&out, r, nil); err != nil {
			t.Fatal(err)
		}
		if !accepts(out.Bytes()) {
			t.Errorf("grub-script-check rejects RenderGRUB of %q:\n%s", src, out.String())
		}
	}
	for _, src := range grubBroken {
		if accepts([]byte(src)) {
			t.Errorf("grub-script-check accepts %q, which TestResolveGRUBParseErrors calls broken", src)
		}
	}
}

func TestFindGRUBConfig(t *testing.T) {
	f := &fstest.MapFile{Data: []byte("menuentry x { linux /k }")}
	tests := []struct {
		fsys fstest.MapFS
		want string
	}{
		{fstest.MapFS{"boot/grub/grub.cfg": f, "EFI/BOOT/grub.cfg": f}, "boot/grub/grub.cfg"},
		{fstest.MapFS{"EFI/BOOT/grub.cfg": f, "boot/grub2/grub.cfg": f}, "boot/grub2/grub.cfg"},
		{fstest.MapFS{"EFI/BOOT/grub.cfg": f}, "EFI/BOOT/grub.cfg"},
		{fstest.MapFS{"boot/grub/loopback.cfg": f, "boot/grub/grub.cfg/x": f}, "boot/grub/loopback.cfg"},
		{fstest.MapFS{"isolinux/isolinux.cfg": f}, ""},
	}
	for _, tt := range tests {
		got, err := FindGRUBConfig(tt.fsys)
		if tt.want == "" {
			if !errors.Is(err, ErrNoGRUBConfig) {
				t.Errorf("FindGRUBConfig(%v) = %q, %v; want ErrNoGRUBConfig", tt.fsys, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FindGRUBConfig(%v) = %q, %v; want %q", tt.fsys, got, err, tt.want)
		}
	}
}

// TestResolveGRUBRenders renders the real files in every format.
func TestResolveGRUBRenders(t *testing.T) {
	r, err := ResolveGRUB(os.DirFS(grubSeeds), "ubuntu/ubuntu-22.04-live-server.grub.cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderIPXE(&buf, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "kernel casper/vmlinuz ---") || !strings.Contains(buf.String(), "initrd casper/initrd") {
		t.Errorf("iPXE script without the casper kernel and initrd:\n%s", buf.String())
	}
	buf.Reset()
	if err := RenderPXELinux(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "/casper/hwe-vmlinuz") {
		t.Errorf("pxelinux menu without the HWE kernel:\n%s", buf.String())
	}
	if err := RenderGRUB(io.Discard, r, nil); err != nil {
		t.Fatal(err)
	}
}

// grubSeedFiles returns the real configurations under testdata/grub.
func grubSeedFiles(tb testing.TB) map[string][]byte {
	out := map[string][]byte{}
	filepath.WalkDir(grubSeeds, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".cfg") {
			if b, err := os.ReadFile(p); err == nil {
				out[p] = b
			}
		}
		return nil
	})
	if len(out) == 0 {
		tb.Fatal("no seed files in " + grubSeeds)
	}
	return out
}

func FuzzResolveGRUB(f *testing.F) {
	for _, b := range grubSeedFiles(f) {
		f.Add(b)
	}
	for _, s := range []string{
		"", "menuentry x { linux /k a; initrd /i }", "set default=1>0\nsubmenu s { menuentry a { linux /a } }",
		"source /grub.cfg", "configfile /other.cfg", "menuentry x { configfile /grub.cfg }",
		`menuentry "$1 ${2}" 'a' { linux "/k" \$x ${y} }`, "if a; then b; elif c; then d; else e; fi",
		"for i in a b; do menuentry $i { linux /$i }; done", "function f { g; }",
		"set a=b\\\nc", "menuentry ''{linux /k}", "x=${",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m := fstest.MapFS{
			"grub.cfg":  {Data: src},
			"other.cfg": {Data: src},
		}
		r, err := ResolveGRUB(m, "grub.cfg", &GRUBResolveOptions{MaxFiles: 16})
		if err != nil {
			return
		}
		labels := map[string]bool{}
		for _, e := range r.Menu.All() {
			if labels[e.Label] {
				t.Fatalf("label %q twice", e.Label)
			}
			labels[e.Label] = true
			if e.Action == ActionBoot && (!strings.HasPrefix(e.Kernel, "/") || e.Type != KwLinux) {
				t.Fatalf("entry %q: kernel %q type %v", e.Label, e.Kernel, e.Type)
			}
		}
		// Deterministic: a second reading gives the same menu.
		r2, err := ResolveGRUB(m, "grub.cfg", &GRUBResolveOptions{MaxFiles: 16})
		if err != nil {
			t.Fatalf("second ResolveGRUB: %v", err)
		}
		if d := cmp.Diff(flatten(r), flatten(r2)); d != "" {
			t.Fatalf("two readings differ:\n%s", d)
		}
		for _, render := range []func(io.Writer, *Resolved) error{
			func(w io.Writer, r *Resolved) error { return RenderIPXE(w, r, nil) },
			func(w io.Writer, r *Resolved) error { return RenderGRUB(w, r, nil) },
			RenderPXELinux,
		} {
			if err := render(io.Discard, r); err != nil {
				t.Fatalf("rendering %q: %v", src, err)
			}
		}
	})
}

// BenchmarkResolveGRUB reads live-build's menu: seven files through
// source, 34 entries in submenus.
func BenchmarkResolveGRUB(b *testing.B) {
	tree := liveBuildTree(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResolveGRUB(tree, "boot/grub/grub.cfg", nil); err != nil {
			b.Fatal(err)
		}
	}
}
