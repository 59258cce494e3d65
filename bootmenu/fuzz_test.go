package bootmenu

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// canonical drops the spelling of every node, so it prints canonically.
func canonical(nodes []Node) {
	for _, n := range nodes {
		switch n := n.(type) {
		case *Comment:
			n.layout = layout{}
		case *Blank:
			n.layout = layout{}
		case *Directive:
			n.layout = layout{}
		case *Raw:
			n.layout = layout{}
		case *Text:
			n.layout, n.kindRaw, n.endLine, n.endEOL = layout{}, "", "", ""
		case *Label:
			n.layout = layout{}
			canonical(n.Body)
		}
	}
}

// seedCorpus adds the real menus and the test menus as fuzz seeds.
func seedCorpus(f *testing.F) {
	for _, s := range []string{
		"", "\n", "label a\n kernel k\n", "text help\nx\nendtext", "menu begin\nmenu end\n",
		"LABEL a\r\n\tAPPEND x\r\n", "a\r", "# c\r\r\n", "include a.cfg\n", "menu include b.cfg tag\n",
		debianTxt,
	} {
		f.Add([]byte(s))
	}
	if dir, err := os.ReadDir(corpusDir); err == nil && len(dir) > 0 {
		filepath.WalkDir(filepath.Join(corpusDir, "github"), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, err := os.ReadFile(p); err == nil && len(b) < 1<<16 {
					f.Add(b)
				}
			}
			return nil
		})
	}
}

func FuzzParse(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Format(&buf, c); err != nil {
			t.Fatalf("Format(Parse(%q)): %v", src, err)
		}
		if !bytes.Equal(buf.Bytes(), src) {
			t.Fatalf("Format(Parse(%q)) = %q", src, buf.Bytes())
		}
		// The canonical printer must give back the same tree too.
		canonical(c.Nodes)
		out, err := c.MarshalText()
		if err != nil {
			t.Fatalf("canonical Format of %q: %v", src, err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(canonical %q): %v", out, err)
		}
		if d := cmp.Diff(c, back, cmpTree...); d != "" {
			t.Fatalf("canonical round trip of %q via %q (-c +back):\n%s", src, out, d)
		}
	})
}

func FuzzResolve(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{
			"a.cfg":     {Data: src},
			"b.cfg":     {Data: src},
			"sub/c.cfg": {Data: []byte("label c\n include ../a.cfg\n")},
		}
		r, err := Resolve(fsys, "a.cfg", &ResolveOptions{MaxFiles: 64})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := RenderIPXE(&buf, r, &IPXEScriptOptions{BaseURL: "http://h/", InitrdArg: true}); err != nil {
			t.Fatal(err)
		}
		if err := RenderGRUB(&buf, r, nil); err != nil {
			t.Fatal(err)
		}
		checkConfigRoundTrip(t, r)
	})
}

// FuzzEdit applies edits chosen by the fuzzer to a parsed configuration
// and wants Parse(Format(c)) to give back the edited tree.
func FuzzEdit(f *testing.F) {
	f.Add([]byte(debianTxt), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("LABEL a\n KERNEL k\n # c\n APPEND x\nINCLUDE y\n APPEND z\nLABEL b\n"), []byte{5, 6, 1, 7})
	f.Fuzz(func(t *testing.T, src, ops []byte) {
		c, err := Parse(src)
		if err != nil {
			return
		}
		if len(ops) > 64 {
			ops = ops[:64]
		}
		for i, op := range ops {
			ls := c.Labels()
			var l *Label
			if len(ls) > 0 {
				l = ls[int(op>>4)%len(ls)]
			}
			v := string(src[:min(len(src), i)])
			switch op % 11 {
			case 0:
				c.AddLabel("new" + v)
			case 1:
				if l != nil {
					c.RemoveLabel(l.Name)
				}
			case 2:
				if l != nil && len(ls) > 1 {
					c.MoveLabel(l.Name, ls[0].Name)
				}
			case 3:
				c.Set(KwTimeout, v)
			case 4:
				if l != nil {
					l.SetKernel("k " + v)
				}
			case 5:
				if l != nil {
					l.SetAppend(v)
				}
			case 6:
				if l != nil {
					l.SetInitrds(fields(v)...)
				}
			case 7:
				if l != nil {
					l.SetMenuLabel(v)
				}
			case 8:
				if l != nil {
					l.SetHelp(v)
				}
			case 9:
				if l != nil {
					l.Remove(KwKernel)
				}
			case 10:
				if l != nil {
					c.MoveLabel(l.Name, "")
				}
			}
		}
		out, err := c.MarshalText()
		if err != nil {
			t.Fatalf("Format after edits: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Format(c)) after edits: %v\n%q", err, out)
		}
		if d := cmp.Diff(c, back, cmpTree...); d != "" {
			t.Fatalf("Parse(Format(c)) after edits differs (-c +back):\n%s\n%q", d, out)
		}
	})
}
