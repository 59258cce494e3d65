package isofs

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
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

// BenchmarkWalkRead opens the 10,000-file image from a file, walks it
// with fs.WalkDir and reads every file with io.Copy: what bench/isofs's
// BenchmarkWalkProcess times as a whole process against cat(1).
func BenchmarkWalkRead(b *testing.B) {
	f, err := os.Open(makeImage(b, "many", "10000"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		fsys, err := Open(f)
		if err != nil {
			b.Fatal(err)
		}
		files := 0
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			file, err := fsys.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, file)
			file.Close()
			files++
			return err
		})
		if err != nil || files != 10000 {
			b.Fatalf("%d files, %v", files, err)
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

// emptyFilesImage returns the path of a Rock Ridge and Joliet image that
// xorriso makes (once per test binary run) of dirs directories holding
// perDir empty files each, named like "dir-0012/f-000345-an-empty-file".
func emptyFilesImage(tb testing.TB, dirs, perDir int) string {
	tb.Helper()
	testenv.NeedCommand(tb, "xorriso")
	key := fmt.Sprintf("empty-files %d %d", dirs, perDir)
	v, _ := madeImages.LoadOrStore(key, &madeImage{})
	img := v.(*madeImage)
	img.once.Do(func() {
		src, err := os.MkdirTemp(corpusDir, "src-")
		if err != nil {
			img.err = err
			return
		}
		defer os.RemoveAll(src)
		for d := range dirs {
			dir := filepath.Join(src, fmt.Sprintf("dir-%04d", d))
			if err := os.Mkdir(dir, 0o755); err != nil {
				img.err = err
				return
			}
			for i := range perDir {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f-%06d-an-empty-file", i)), nil, 0o644); err != nil {
					img.err = err
					return
				}
			}
		}
		img.path = filepath.Join(corpusDir, strings.ReplaceAll(key, " ", "_")+".iso")
		cmd := exec.Command("xorriso", "-as", "mkisofs", "-R", "-J", "-V", "EMPTY", "-o", img.path, src)
		if out, err := cmd.CombinedOutput(); err != nil {
			img.err = fmt.Errorf("xorriso: %v\n%s", err, out)
		}
	})
	if img.err != nil {
		tb.Fatal(img.err)
	}
	return img.path
}

// Sizes of the image of BenchmarkMemory and BenchmarkLookup: 100,000 empty
// files in 100 directories.
const benchDirs, benchPerDir = 100, 1000

// BenchmarkMemory opens an image of 100,000 empty files (read through an
// *os.File, so the image is not in the heap), walks its whole tree, and
// reports the heap in use afterwards per entry and per byte of directory
// data (the extents of the directories walked), and what the directory
// cache counts per entry.
func BenchmarkMemory(b *testing.B) {
	for _, names := range []NameSource{NamesRockRidge, NamesJoliet, NamesPlain} {
		b.Run(names.String(), func(b *testing.B) {
			f, err := os.Open(emptyFilesImage(b, benchDirs, benchPerDir))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var entries, dirBytes, cached int64
			var inuse uint64
			b.ReportAllocs()
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				fsys, err := OpenWith(f, Options{Names: names})
				if err != nil {
					b.Fatal(err)
				}
				entries, dirBytes = 0, fsys.root.size
				err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					entries++
					if d.IsDir() && p != "." {
						dirBytes += d.(*node).size
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				inuse = after.HeapInuse - before.HeapInuse
				cached, _, _, _ = fsys.cacheStats()
			}
			b.ReportMetric(float64(inuse)/float64(entries), "heap-B/entry")
			b.ReportMetric(float64(inuse)/float64(dirBytes), "heap/dirdata")
			b.ReportMetric(float64(inuse)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(cached)/float64(entries), "cache-B/entry")
		})
	}
}

// BenchmarkLookup stats the 100,000 files of the image of BenchmarkMemory
// in turn, through an FS opened with the default options: after the first
// round every directory is decoded, so this measures the lookup of a path
// through the directory cache.
func BenchmarkLookup(b *testing.B) {
	f, err := os.Open(emptyFilesImage(b, benchDirs, benchPerDir))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fsys, err := Open(f)
	if err != nil {
		b.Fatal(err)
	}
	paths := make([]string, 0, benchDirs*benchPerDir)
	for i := range benchPerDir {
		for d := range benchDirs {
			paths = append(paths, fmt.Sprintf("dir-%04d/f-%06d-an-empty-file", d, i))
		}
	}
	for _, p := range paths { // decode every directory before timing
		if _, err := fsys.Stat(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := fsys.Stat(paths[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(paths) {
			i = 0
		}
	}
}
