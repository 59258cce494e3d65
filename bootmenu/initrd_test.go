package bootmenu

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// loadedInitrds renders r three ways and returns, for each, the initrds
// its boot loader would load for the entry labelled label: pxelinux's
// rule (the files after the first "initrd=" of the APPEND line, which is
// what its Linux loader does with strstr), the iPXE script's initrd
// commands and the GRUB entry's initrd command.
func loadedInitrds(t *testing.T, r *Resolved, label string) (pxe, ipxe, grub []string) {
	t.Helper()
	var b bytes.Buffer
	if err := RenderPXELinux(&b, r); err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, b.String())
	l := c.Label(label)
	if l == nil {
		t.Fatalf("RenderPXELinux has no label %q:\n%s", label, b.String())
	}
	if app := l.Append(); strings.Contains(app, "initrd=") {
		v := app[strings.Index(app, "initrd=")+len("initrd="):]
		if i := strings.IndexByte(v, ' '); i >= 0 {
			v = v[:i]
		}
		pxe = strings.Split(v, ",")
	}

	b.Reset()
	if err := RenderIPXE(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	for ln := range strings.Lines(b.String()) {
		if f := strings.Fields(ln); len(f) > 1 && f[0] == "initrd" {
			ipxe = append(ipxe, f[1])
		}
	}

	b.Reset()
	if err := RenderGRUB(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	for ln := range strings.Lines(b.String()) {
		if f := strings.Fields(ln); len(f) > 0 && f[0] == "initrd" {
			for _, n := range f[1:] {
				grub = append(grub, strings.TrimPrefix(n, "/"))
			}
		}
	}
	return pxe, ipxe, grub
}

// TestInitrdsOneSource edits resolved entries and checks that all three
// renderers load the same initrds afterwards, the ones Entry.Initrds
// names.
func TestInitrdsOneSource(t *testing.T) {
	tests := []struct {
		name string
		src  string
		edit func(e *Entry)
		want []string
	}{
		{"as resolved", "LABEL a\n KERNEL k\n INITRD i1,i2\n APPEND quiet\n", nil, []string{"i1", "i2"}},
		{"Append edited", "LABEL a\n KERNEL k\n INITRD i1\n APPEND quiet\n", func(e *Entry) { e.Append = "quiet" }, nil},
		{"Append given one", "LABEL a\n KERNEL k\n APPEND quiet\n", func(e *Entry) { e.Append = "initrd=x.img quiet" }, []string{"x.img"}},
		{"SetInitrds", "LABEL a\n KERNEL k\n INITRD i1\n APPEND quiet\n", func(e *Entry) { e.SetInitrds("n1", "n2") }, []string{"n1", "n2"}},
		{"SetInitrds none", "LABEL a\n KERNEL k\n INITRD i1\n APPEND quiet\n", func(e *Entry) { e.SetInitrds() }, nil},
		{"SetInitrds added", "LABEL a\n KERNEL k\n", func(e *Entry) { e.SetInitrds("n1") }, []string{"n1"}},
		// pxelinux loads the first initrd= only: the global APPEND's, not
		// the label's INITRD that syslinux adds after it.
		{"global APPEND and INITRD", "APPEND initrd=g.img\nLABEL a\n KERNEL k\n INITRD i2.img\n", nil, []string{"g.img"}},
		{"APPEND and INITRD", "LABEL a\n KERNEL k\n APPEND initrd=a.gz,b.gz quiet initrd=c.gz\n INITRD d.gz\n", nil, []string{"a.gz", "b.gz"}},
		{"SetInitrds keeps the later ones", "LABEL a\n KERNEL k\n APPEND initrd=a.gz quiet\n INITRD d.gz\n", func(e *Entry) { e.SetInitrds("n.gz") }, []string{"n.gz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ResolveConfig(nil, mustParse(t, tt.src), "t.cfg", nil)
			if err != nil {
				t.Fatal(err)
			}
			e := r.Menu.Entry("a")
			if tt.edit != nil {
				tt.edit(e)
			}
			if got := e.Initrds(); !slices.Equal(got, tt.want) {
				t.Errorf("Initrds() = %q, want %q (Append %q)", got, tt.want, e.Append)
			}
			pxe, ipxe, grub := loadedInitrds(t, r, "a")
			if !slices.Equal(pxe, tt.want) || !slices.Equal(ipxe, tt.want) || !slices.Equal(grub, tt.want) {
				t.Errorf("loaded initrds: pxelinux %q, iPXE %q, GRUB %q; want %q (Append %q)", pxe, ipxe, grub, tt.want, e.Append)
			}
		})
	}
}

func TestLabelInitrdsFirstWins(t *testing.T) {
	c := mustParse(t, "LABEL a\n KERNEL k\n APPEND initrd=a.gz quiet initrd=b.gz\n INITRD d.gz\nLABEL b\n KERNEL k\n INITRD d.gz,e.gz\n")
	if got := c.Label("a").Initrds(); !slices.Equal(got, []string{"a.gz"}) {
		t.Errorf("Label(a).Initrds() = %q, want [a.gz]", got)
	}
	if got := c.Label("b").Initrds(); !slices.Equal(got, []string{"d.gz", "e.gz"}) {
		t.Errorf("Label(b).Initrds() = %q, want [d.gz e.gz]", got)
	}
}
