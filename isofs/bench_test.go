package isofs

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"testing"
)

// BenchmarkWalk opens a 10,000-file Rock Ridge image made by xorriso (held
// in memory) and visits every entry. bench/isofs compares this with other
// libraries.
func BenchmarkWalk(b *testing.B) {
	img, err := os.ReadFile(makeImage(b, "many", "10000"))
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(img)
	b.ReportAllocs()
	for b.Loop() {
		fsys, err := Open(r)
		if err != nil {
			b.Fatal(err)
		}
		if n := walkCount(b, fsys, "."); n != 10100 {
			b.Fatalf("%d entries, want 10100", n)
		}
	}
}

func walkCount(b *testing.B, fsys *FS, dir string) int {
	list, err := fsys.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	n := len(list)
	for _, d := range list {
		if d.IsDir() {
			n += walkCount(b, fsys, path.Join(dir, d.Name()))
		}
	}
	return n
}

// BenchmarkReadAt reads a file in 32 KiB pieces at increasing offsets, as
// http.ServeContent and TFTP do; it must not allocate.
func BenchmarkReadAt(b *testing.B) {
	fsys, err := Open(bytes.NewReader(readTestdata(b, "small-rr.iso")))
	if err != nil {
		b.Fatal(err)
	}
	f, err := fsys.Open("sub/blocks.txt")
	if err != nil {
		b.Fatal(err)
	}
	r := f.(io.ReaderAt)
	buf := make([]byte, 1000)
	b.ReportAllocs()
	for b.Loop() {
		for off := int64(0); off < 3000; off += 1000 {
			if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
	}
}

func TestReadAtAllocs(t *testing.T) {
	fsys, err := Open(bytes.NewReader(readTestdata(t, "small-rr.iso")))
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("sub/blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if n := testing.AllocsPerRun(100, func() { f.(io.ReaderAt).ReadAt(buf, 1000) }); n != 0 {
		t.Errorf("ReadAt allocates %v times, want 0", n)
	}
	var _ fs.File = f
}
