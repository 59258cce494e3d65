package bootmenu

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

const syslinuxDocs = "/usr/share/doc/syslinux-common"

func readDoc(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(syslinuxDocs + "/" + name)
	if err != nil {
		testenv.Unavailable(t, "syslinux-common documentation: %v", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listings returns the asciidoc listing blocks (between "----" lines) of
// a document, one after the other.
func listings(doc string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(doc) {
		if strings.TrimRight(line, "\n") == "----" {
			in = !in
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestSyslinuxDocExamples reads the configuration examples of the syslinux
// documentation: the listings of syslinux.cfg(5) and the examples of the
// menu system manual, which is written as tab-indented directives.
func TestSyslinuxDocExamples(t *testing.T) {
	t.Run("syslinux.cfg.txt", func(t *testing.T) {
		src := listings(readDoc(t, "asciidoc/syslinux.cfg.txt.gz"))
		c := mustParse(t, src)
		if c.String() != src {
			t.Fatalf("listings do not round-trip")
		}
		r, err := ResolveConfig(nil, c, "syslinux.cfg.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.TotalTimeout != 900*time.Second || r.Timeout != 60*time.Second || r.OnError != "xyzzy plugh" || !r.Prompt {
			t.Errorf("globals: timeout %v total %v onerror %q prompt %v", r.Timeout, r.TotalTimeout, r.OnError, r.Prompt)
		}
		l := r.Menu.Entry("linux")
		if l == nil || !slices.Equal(l.Initrds(), []string{"initrd1.gz", "initrd2.gz"}) || !l.Default {
			t.Errorf("linux entry = %+v", l)
		}
		if m := r.Menu.Entry("m"); m == nil || m.Type != KwCom32 || m.Kernel != "menu.c32" {
			t.Errorf("m entry = %+v", m)
		}
	})
	t.Run("menu.txt", func(t *testing.T) {
		doc := readDoc(t, "txt/menu.txt.gz")
		if c := mustParse(t, doc); c.String() != doc {
			t.Fatalf("menu.txt does not round-trip")
		}
		// The manual indents its directives by a tab: drop it and read the
		// whole manual as a configuration.
		var b bytes.Buffer
		for line := range strings.Lines(doc) {
			b.WriteString(strings.TrimPrefix(line, "\t"))
		}
		c := mustParse(t, b.String())
		if c.String() != b.String() {
			t.Fatalf("dedented menu.txt does not round-trip")
		}
		r, err := ResolveConfig(nil, c, "menu.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		soft := r.Menu.Entry("softcap")
		if soft == nil || soft.Kernel != "softcap-9.6.36.bzi" || soft.Display != "Soft Cap Linux 9.6.36" || soft.Append != "whatever" {
			t.Errorf("softcap = %+v", soft)
		}
		w2k := r.Menu.Entry("w2k")
		if w2k == nil || w2k.Type != KwCom32 || w2k.Args() != "hd0 1" || w2k.Display != "Windows 2000" {
			t.Errorf("w2k = %+v", w2k)
		}
		if dos := r.Menu.Entry("dos"); dos == nil || !slices.Equal(dos.Initrds(), []string{"dos622.imz"}) || dos.Kernel != "memdisk" {
			t.Errorf("dos = %+v", dos)
		}
		var disabled, separators, indented int
		for _, e := range r.Menu.All() {
			if e.Label == "softcap" && e.Indent == 1 {
				indented++
			}
			if e.Disabled {
				disabled++
			}
			if e.Action == ActionSeparator {
				separators++
			}
		}
		if disabled < 2 || separators < 1 || indented != 1 {
			t.Errorf("MENU DISABLE entries %d, separators %d, indented softcap %d", disabled, separators, indented)
		}
		checkConfigRoundTrip(t, r)
	})
}
