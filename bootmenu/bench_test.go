package bootmenu

import (
	"bytes"
	"io"
	"os"
	"path"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/internal/testenv"
)

// benchCorpus loads the corpus config files and an in-memory file system
// holding all of them, so resolution is measured without disk I/O.
func benchCorpus(b *testing.B) ([]corpusFile, fstest.MapFS, int64) {
	files := corpus(b, "config")
	fsys := fstest.MapFS{}
	var n int64
	for _, f := range files {
		fsys[f.name] = &fstest.MapFile{Data: f.data}
		n += int64(len(f.data))
	}
	return files, fsys, n
}

func BenchmarkParse(b *testing.B) {
	files, _, n := benchCorpus(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			if _, err := Parse(f.data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	files, _, n := benchCorpus(b)
	var cs []*Config
	for _, f := range files {
		c, err := Parse(f.data)
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
	}
	buf := make([]byte, 0, 64<<10)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cs {
			var err error
			if buf, err = c.AppendText(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	files, fsys, n := benchCorpus(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			opts := ResolveOptions{Dir: path.Dir(f.name)}
			if _, err := Resolve(fsys, f.name, &opts); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseResolveFormat is the whole pipeline over the corpus: parse
// and print every file, resolve it with its includes, render it for iPXE
// and GRUB.
func BenchmarkParseResolveFormat(b *testing.B) {
	files, fsys, n := benchCorpus(b)
	var buf bytes.Buffer
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			c, err := Parse(f.data)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			if err := Format(&buf, c); err != nil {
				b.Fatal(err)
			}
			opts := ResolveOptions{Dir: path.Dir(f.name)}
			r, err := Resolve(fsys, f.name, &opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := RenderIPXE(io.Discard, r, nil); err != nil {
				b.Fatal(err)
			}
			if err := RenderGRUB(io.Discard, r, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDebian resolves Debian's netboot menu from disk and renders it
// three ways, as a boot server would per client.
func BenchmarkDebian(b *testing.B) {
	dir := debianRoot + "/text"
	if _, err := os.Stat(dir); err != nil {
		testenv.Unavailable(b, "debian-installer-12-netboot-amd64 not installed: %v", err)
	}
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Resolve(fsys, "pxelinux.cfg/default", nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := RenderIPXE(io.Discard, r, nil); err != nil {
			b.Fatal(err)
		}
		if err := RenderGRUB(io.Discard, r, nil); err != nil {
			b.Fatal(err)
		}
		if err := RenderPXELinux(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
