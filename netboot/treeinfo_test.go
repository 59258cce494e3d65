package netboot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTreeinfo(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "treeinfo", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTreeinfo(t *testing.T) {
	type want struct {
		family, version, arch, kernel, initrd, xenKernel, main string
		repos                                                  []string
	}
	for _, tc := range []struct {
		file string
		want want
	}{
		{"fedora-41-boot.treeinfo", want{
			family: "Fedora", version: "41", arch: "x86_64",
			kernel: "images/pxeboot/vmlinuz", initrd: "images/pxeboot/initrd.img",
			xenKernel: "images/pxeboot/vmlinuz", main: "images/install.img",
			repos: []string{"."},
		}},
		{"rocky-9-dvd.treeinfo", want{
			family: "Rocky Linux", version: "9.4", arch: "x86_64",
			kernel: "images/pxeboot/vmlinuz", initrd: "images/pxeboot/initrd.img",
			xenKernel: "images/pxeboot/vmlinuz", main: "images/install.img",
			repos: []string{"AppStream", "BaseOS"},
		}},
		{"centos-6-legacy.treeinfo", want{
			family: "CentOS", version: "6.10", arch: "x86_64",
			kernel: "images/pxeboot/vmlinuz", initrd: "images/pxeboot/initrd.img",
			xenKernel: "images/pxeboot/vmlinuz", main: "images/install.img",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ti, err := ParseTreeinfo(readTreeinfo(t, tc.file))
			if err != nil {
				t.Fatalf("ParseTreeinfo: %v", err)
			}
			got := want{
				family: ti.Family(), version: ti.Version(), arch: ti.Arch(),
				kernel: ti.Kernel(""), initrd: ti.Initrd(""), xenKernel: ti.Kernel("xen"),
				main: ti.MainImage(), repos: ti.Repositories(),
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("ParseTreeinfo(%s) (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

func TestParseTreeinfoSyntax(t *testing.T) {
	src := "# comment\r\n" +
		"[General]\r\n" +
		"Family : Fedora\r\n" +
		"; another comment\n" +
		"description = first line\n" +
		"  second line\n" +
		"# a comment inside the value\n" +
		"\tthird line\n" +
		"\n" +
		"family = Rawhide\n" + // last value wins
		"[tree]\n" +
		"arch=aarch64\n" +
		"[General]\n" + // a section given twice is one section
		"version = 42\n"
	ti, err := ParseTreeinfo([]byte(src))
	if err != nil {
		t.Fatalf("ParseTreeinfo: %v", err)
	}
	want := &Treeinfo{Sections: []TreeinfoSection{
		{Name: "General", Keys: []TreeinfoKey{
			{"family", "Rawhide"},
			{"description", "first line\nsecond line\nthird line"},
			{"version", "42"},
		}},
		{Name: "tree", Keys: []TreeinfoKey{{"arch", "aarch64"}}},
	}}
	if diff := cmp.Diff(want, ti); diff != "" {
		t.Errorf("ParseTreeinfo (-want +got):\n%s", diff)
	}
	if v, ok := ti.Get("General", "FAMILY"); !ok || v != "Rawhide" {
		t.Errorf(`Get("General", "FAMILY") = %q, %v, want "Rawhide", true`, v, ok)
	}
	if _, ok := ti.Get("general", "family"); ok {
		t.Errorf(`Get("general", …) found a key: section names are case-sensitive`)
	}
	if got := ti.Arch(); got != "aarch64" {
		t.Errorf("Arch() = %q, want aarch64", got)
	}
}

func TestParseTreeinfoErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
	}{
		{"key before section", "arch = x86_64\n", 1},
		{"no delimiter", "[tree]\narch x86_64\n", 2},
		{"empty key", "[tree]\n= x86_64\n", 2},
		{"unclosed header", "[tree\n", 1},
		{"empty header", "[]\n", 1},
		{"bracket in header", "[a]b]\n", 1},
		{"continuation first", "[tree]\n  arch\n", 2},
		{"continuation after blank", "[tree]\narch = a\n\n  b\n", 4},
		{"too large", "[tree]\n" + strings.Repeat("#", MaxTreeinfoSize), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTreeinfo([]byte(tc.src))
			var te *TreeinfoError
			if !errors.As(err, &te) || !errors.Is(err, ErrTreeinfo) {
				t.Fatalf("ParseTreeinfo(%.40q) = %v, want a *TreeinfoError", tc.src, err)
			}
			if te.Line != tc.line {
				t.Errorf("ParseTreeinfo(%.40q) error at line %d, want %d (%v)", tc.src, te.Line, tc.line, err)
			}
		})
	}
}

func TestTreeinfoRoundTrip(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "treeinfo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			ti, err := ParseTreeinfo(readTreeinfo(t, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			b, err := ti.AppendText(nil)
			if err != nil {
				t.Fatalf("AppendText: %v", err)
			}
			again, err := ParseTreeinfo(b)
			if err != nil {
				t.Fatalf("ParseTreeinfo(AppendText): %v\n%s", err, b)
			}
			if diff := cmp.Diff(ti, again); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

func TestTreeinfoAppendTextRefuses(t *testing.T) {
	for _, ti := range []*Treeinfo{
		{Sections: []TreeinfoSection{{Name: "a]"}}},
		{Sections: []TreeinfoSection{{Name: "a", Keys: []TreeinfoKey{{"k=", "v"}}}}},
		{Sections: []TreeinfoSection{{Name: "a", Keys: []TreeinfoKey{{"K", "v"}}}}},
		{Sections: []TreeinfoSection{{Name: "a", Keys: []TreeinfoKey{{"#k", "v"}}}}},
		{Sections: []TreeinfoSection{{Name: "a", Keys: []TreeinfoKey{{"k", "v\n"}}}}},
		{Sections: []TreeinfoSection{{Name: "a", Keys: []TreeinfoKey{{"k", "v\n#c"}}}}},
	} {
		if b, err := ti.AppendText(nil); err == nil {
			t.Errorf("AppendText(%+v) = %q, want an error", ti, b)
		}
	}
}

func FuzzTreeinfo(f *testing.F) {
	ents, err := os.ReadDir(filepath.Join("testdata", "treeinfo"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		f.Add(readTreeinfo(f, e.Name()))
	}
	f.Add([]byte("[a]\nk = v\n  w\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ti, err := ParseTreeinfo(b)
		if err != nil {
			if !errors.Is(err, ErrTreeinfo) {
				t.Fatalf("error %v does not wrap ErrTreeinfo", err)
			}
			return
		}
		_ = ti.Repositories()
		_ = ti.Kernel("")
		out, err := ti.AppendText(nil)
		if err != nil {
			t.Fatalf("AppendText of a parsed file: %v", err)
		}
		again, err := ParseTreeinfo(out)
		if err != nil {
			t.Fatalf("ParseTreeinfo(AppendText) = %v\n%q", err, out)
		}
		if diff := cmp.Diff(ti, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
