package bootmenu

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const debianTxt = `label install
	menu label ^Install
	kernel debian-installer/amd64/linux
	append vga=788 initrd=debian-installer/amd64/initrd.gz --- quiet 

# rescue
label rescue
	menu label ^Rescue mode
	kernel debian-installer/amd64/linux
	append vga=788 initrd=debian-installer/amd64/initrd.gz rescue/enable=true --- quiet 
`

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// reparse formats c, parses the output and wants the same tree back.
func reparse(t *testing.T, c *Config) string {
	t.Helper()
	out, err := c.MarshalText()
	if err != nil {
		t.Fatalf("Format: %v", err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Format(c)): %v\n%s", err, out)
	}
	if d := cmp.Diff(c, back, cmpTree...); d != "" {
		t.Errorf("Parse(Format(c)) differs (-c +back):\n%s\n%s", d, out)
	}
	return string(out)
}

func TestEditLabel(t *testing.T) {
	c := mustParse(t, debianTxt)
	l := c.Label("install")
	if l == nil {
		t.Fatal("no label install")
	}
	if got := l.Kernel(); got != "debian-installer/amd64/linux" {
		t.Errorf("Kernel = %q", got)
	}
	if got := l.Initrds(); !slices.Equal(got, []string{"debian-installer/amd64/initrd.gz"}) {
		t.Errorf("Initrds = %q", got)
	}
	l.SetKernel("/d-i/linux")
	l.SetInitrds("/d-i/initrd.gz", "/d-i/firmware.cpio.gz")
	l.SetMenuLabel("^Install (patched)")
	if err := l.SetHelp("Installs Debian.\n endtext here would end it\n"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetHelp with an ENDTEXT line: error %v, want ErrInvalid", err)
	}
	if err := l.SetHelp("Installs Debian.\nendtext: not the end\n"); err != nil {
		t.Fatal(err)
	}
	got := reparse(t, c)
	want := `label install
	menu label ^Install (patched)
	kernel /d-i/linux
	append vga=788 initrd=/d-i/initrd.gz,/d-i/firmware.cpio.gz --- quiet 
	text help
Installs Debian.
endtext: not the end
	endtext

# rescue
label rescue
`
	if !strings.HasPrefix(got, want) {
		t.Errorf("edited config =\n%s\nwant prefix\n%s", got, want)
	}
	if got := l.Help(); got != "Installs Debian.\nendtext: not the end\n" {
		t.Errorf("Help = %q", got)
	}

	// Remove the initrd= from APPEND: INITRD lines take over.
	l.SetInitrds()
	if got := l.Append(); got != "vga=788 --- quiet" {
		t.Errorf("Append after SetInitrds() = %q", got)
	}
	l.SetInitrds("a.gz")
	if d := l.Get(KwInitrd); d == nil || d.Value != "a.gz" {
		t.Errorf("INITRD = %v", d)
	}
	l.SetAppend("")
	if l.Get(KwAppend) != nil {
		t.Errorf("SetAppend(\"\") kept APPEND")
	}
	if err := l.SetHelp(""); err != nil || l.Help() != "" {
		t.Errorf("SetHelp(\"\") kept the help")
	}
	reparse(t, c)
}

func TestEditConfig(t *testing.T) {
	c := mustParse(t, debianTxt)
	n := c.AddLabel("local\n")
	n.Set(KwLocalBoot, "0")
	n.SetMenuLabel("Boot from ^disk")
	c.Set(KwDefault, "local")
	c.Set(KwTimeout, "50")
	if err := c.MoveLabel("rescue", "install"); err != nil {
		t.Fatal(err)
	}
	if err := c.MoveLabel("install", "install"); err != nil {
		t.Errorf("MoveLabel in front of itself: %v", err)
	}
	if err := c.MoveLabel("nope", ""); !errors.Is(err, ErrNoLabel) {
		t.Errorf("MoveLabel(nope) = %v, want ErrNoLabel", err)
	}
	if err := c.MoveLabel("install", "nope"); !errors.Is(err, ErrNoLabel) {
		t.Errorf("MoveLabel(install, nope) = %v, want ErrNoLabel", err)
	}
	got := reparse(t, c)
	want := "default local\ntimeout 50\nlabel rescue\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("config =\n%s\nwant prefix %q", got, want)
	}
	if !strings.HasSuffix(got, "label local\n\tmenu label Boot from ^disk\n\tlocalboot 0\n") {
		t.Errorf("new label printed in another style:\n%s", got)
	}
	var names []string
	for _, l := range c.Labels() {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"rescue", "install", "local"}) {
		t.Errorf("labels = %q", names)
	}
	if !c.RemoveLabel("install") || c.RemoveLabel("install") {
		t.Errorf("RemoveLabel twice did not report true, false")
	}
	if err := c.MoveLabel("rescue", ""); err != nil {
		t.Fatal(err)
	}
	reparse(t, c)
	r, err := ResolveConfig(nil, c, "edited", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(r.Menu); got != "local* rescue" {
		t.Errorf("resolved = %s", got)
	}
}

func TestEditGlobalInsideLabel(t *testing.T) {
	// Debian's drk.cfg sets DEFAULT inside a LABEL block.
	c := mustParse(t, "label installdark\ndefault installdark\n\tmenu label ^Install\n")
	if d := c.Get(KwDefault); d == nil || d.Value != "installdark" {
		t.Fatalf("Get(DEFAULT) = %v", d)
	}
	c.Set(KwDefault, "other")
	if got, want := reparse(t, c), "label installdark\ndefault other\n\tmenu label ^Install\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if c.Get(KwAppend) != nil {
		t.Errorf("Get(APPEND) found a label's APPEND")
	}
}

func TestEditUpperCaseStyle(t *testing.T) {
	c := mustParse(t, "DEFAULT a\nLABEL a\n  KERNEL k\n")
	c.Label("a").SetAppend("quiet")
	c.AddLabel("b").SetKernel("kb")
	got := reparse(t, c)
	want := "DEFAULT a\nLABEL a\n  KERNEL k\n  APPEND quiet\nLABEL b\n  KERNEL kb\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRewritePaths(t *testing.T) {
	c := mustParse(t, `UI vesamenu.c32
PATH boot/:lib
DISPLAY boot.msg
F1 f1.txt bg.png
MENU BACKGROUND splash.png
MENU COLOR title 1;36 #ff000000 #00000000 std
INCLUDE sub.cfg Sub menu
LABEL a
  LINUX vmlinuz console=ttyS0
  INITRD a.gz,b.gz
  APPEND initrd=c.gz quiet  root=/dev/sda
LABEL hd
  LOCALBOOT 0
LABEL cfg
  CONFIG other.cfg dir/
`)
	c.RewritePaths(func(k PathKind, p string) string { return "/x/" + p + "#" + string(rune('0'+k)) })
	want := `UI /x/vesamenu.c32#5
PATH /x/boot/#4:/x/lib#4
DISPLAY /x/boot.msg#6
F1 /x/f1.txt#6 /x/bg.png#7
MENU BACKGROUND /x/splash.png#7
MENU COLOR title 1;36 #ff000000 #00000000 std
INCLUDE /x/sub.cfg#2 Sub menu
LABEL a
  LINUX /x/vmlinuz#0 console=ttyS0
  INITRD /x/a.gz#1,/x/b.gz#1
  APPEND initrd=/x/c.gz#1 quiet  root=/dev/sda
LABEL hd
  LOCALBOOT 0
LABEL cfg
  CONFIG /x/other.cfg#3 /x/dir/#4
`
	if got := reparse(t, c); got != want {
		t.Errorf("RewritePaths:\n%s\nwant\n%s", got, want)
	}

	r, err := ResolveConfig(nil, mustParse(t, "LABEL a\n KERNEL k\n INITRD i1\n APPEND initrd=i0 x\nLABEL l\n LOCALBOOT 0\nMENU BACKGROUND #123\n"), "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RewritePaths(func(k PathKind, p string) string { return "p/" + p })
	e := r.Menu.Entry("a")
	if e.Kernel != "p/k" || !slices.Equal(e.Initrds(), []string{"p/i0"}) || e.Append != "initrd=p/i0 x initrd=p/i1" {
		t.Errorf("resolved rewrite = %q %q %q", e.Kernel, e.Initrds(), e.Append)
	}
	if l := r.Menu.Entry("l"); l.Kernel != "0" {
		t.Errorf("LOCALBOOT rewritten to %q", l.Kernel)
	}
	if r.Menu.Background != "#123" {
		t.Errorf("colour background rewritten to %q", r.Menu.Background)
	}
}

func TestSearchPath(t *testing.T) {
	tests := []struct {
		name string
		c    Client
		want []string
	}{
		{
			// The example of pxelinux(1): 88:99:AA:BB:CC:DD, 192.168.2.91.
			name: "pxelinux manual",
			c: SearchClient{
				UUID: []byte{0xb8, 0x94, 0x59, 0x08, 0xd6, 0xa6, 0x41, 0xa9, 0x61, 0x1d, 0x74, 0xa6, 0xab, 0x80, 0xb8, 0x3d},
				MAC:  net.HardwareAddr{0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD},
				IP:   netip.MustParseAddr("192.168.2.91"),
			},
			want: []string{
				"pxelinux.cfg/b8945908-d6a6-41a9-611d-74a6ab80b83d",
				"pxelinux.cfg/01-88-99-aa-bb-cc-dd",
				"pxelinux.cfg/C0A8025B", "pxelinux.cfg/C0A8025", "pxelinux.cfg/C0A802", "pxelinux.cfg/C0A80",
				"pxelinux.cfg/C0A8", "pxelinux.cfg/C0A", "pxelinux.cfg/C0", "pxelinux.cfg/C",
				"pxelinux.cfg/default",
			},
		},
		{
			// pxelinux skips the nil UUID (and any whose byte 6 is
			// outside 0x10–0xef), as dhcp.ClientGUID.PXELinuxAccepts says.
			name: "nil UUID",
			c:    SearchClient{UUID: make([]byte, 16), MAC: net.HardwareAddr{0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD}},
			want: []string{"pxelinux.cfg/01-88-99-aa-bb-cc-dd", "pxelinux.cfg/default"},
		},
		{
			name: "UUID byte 6 0xf0",
			c:    SearchClient{UUID: []byte{6: 0xf0, 15: 1}},
			want: []string{"pxelinux.cfg/default"},
		},
		{
			name: "option 209, no UUID, IPv4-mapped, other hardware type",
			c: SearchClient{
				ConfigFile:   "custom.cfg",
				UUID:         []byte{1, 2, 3},
				HardwareType: 6,
				MAC:          net.HardwareAddr{0, 1, 2, 3, 4, 5},
				IP:           netip.MustParseAddr("::ffff:10.0.2.15"),
			},
			want: []string{
				"custom.cfg",
				"pxelinux.cfg/06-00-01-02-03-04-05",
				"pxelinux.cfg/0A00020F", "pxelinux.cfg/0A00020", "pxelinux.cfg/0A0002", "pxelinux.cfg/0A000",
				"pxelinux.cfg/0A00", "pxelinux.cfg/0A0", "pxelinux.cfg/0A", "pxelinux.cfg/0",
				"pxelinux.cfg/default",
			},
		},
		{name: "nothing known", c: SearchClient{IP: netip.MustParseAddr("2001:db8::1")}, want: []string{"pxelinux.cfg/default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SearchPath(tt.c); !slices.Equal(got, tt.want) {
				t.Errorf("SearchPath(%+v) =\n%q\nwant\n%q", tt.c, got, tt.want)
			}
		})
	}
}

func TestResolvedRewriteSettings(t *testing.T) {
	r, err := ResolveConfig(nil, mustParse(t, "UI menu.c32 x\nDISPLAY boot.msg\nPATH a:b\nFONT f.psf\nF1 help.txt bg.png\nMENU COLOR sel 7 #fff #000\n"), "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RewritePaths(func(_ PathKind, p string) string { return "/p/" + p })
	got := []string{r.UI, r.Display, strings.Join(r.Path, ":"), r.Settings[0].Value, r.Menu.Settings[0].Value, r.Menu.Settings[1].Value}
	want := []string{"/p/menu.c32 x", "/p/boot.msg", "/p/a:/p/b", "/p/f.psf", "/p/help.txt /p/bg.png", "sel 7 #fff #000"}
	if !slices.Equal(got, want) {
		t.Errorf("rewritten = %q, want %q", got, want)
	}
}

// TestEditKeepsMembership removes a label's last label-scoped lines and
// checks that the lines after them leave its body, as Parse would have
// it: the tree equals Parse(Format(c)), and removing the label keeps them.
func TestEditKeepsMembership(t *testing.T) {
	for _, tt := range []struct {
		name, last string
		edit       func(l *Label)
	}{
		{"SetAppend", " APPEND x\n", func(l *Label) { l.SetAppend("") }},
		{"Remove", " APPEND x\n", func(l *Label) { l.Remove(KwAppend) }},
		{"SetHelp", " TEXT HELP\n help\n ENDTEXT\n", func(l *Label) { l.SetHelp("") }},
		{"SetInitrds", " INITRD i\n", func(l *Label) { l.SetInitrds() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "LABEL a\n KERNEL k\n # about a\n TIMEOUT 50\n"+tt.last+"LABEL b\n KERNEL kb\n")
			tt.edit(c.Label("a"))
			reparse(t, c)
			if !c.RemoveLabel("a") {
				t.Fatal("RemoveLabel(a) = false")
			}
			got := reparse(t, c)
			if want := "# about a\n TIMEOUT 50\n"; !strings.Contains(got, want) || strings.Contains(got, "KERNEL k\n") {
				t.Errorf("after RemoveLabel(a):\n%s\nwant the label gone and %q kept", got, want)
			}
		})
	}
}
