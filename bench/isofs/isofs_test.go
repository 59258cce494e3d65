// Package isofs compares pxekit's isofs with the ISO 9660 readers
// github.com/kdomanski/iso9660 and github.com/diskfs/go-diskfs, and with
// cat(1), on images made by xorriso (../../isofs/testdata/mkiso.sh).
//
//	cd bench && go test -run Peers -v ./isofs          # names and hashes
//	cd bench && go test -run '^$' -bench . -benchtime 10x ./isofs
package isofs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	diskfsfile "github.com/diskfs/go-diskfs/backend/file"
	diskiso "github.com/diskfs/go-diskfs/filesystem/iso9660"
	kdiso "github.com/kdomanski/iso9660"
	"github.com/pxekit/pxekit/isofs"
)

var (
	imagesOnce sync.Once
	imagesDir  string
	imagesErr  error
)

// image returns the path of an image made by mkiso.sh (kind "many", "rr-xorriso")
// or here ("big": two files of 96 MiB of random bytes).
func image(tb testing.TB, kind string) string {
	tb.Helper()
	imagesOnce.Do(func() {
		imagesDir, imagesErr = os.MkdirTemp("", "bench-isofs-")
		if imagesErr != nil {
			return
		}
		for _, args := range [][]string{{"many", "many.iso", "10000"}, {"rr-xorriso", "rr-xorriso.iso"}} {
			cmd := exec.Command("../../isofs/testdata/mkiso.sh", args...)
			cmd.Dir = imagesDir
			cmd.Args[0] = cmd.Path
			cmd.Path, _ = filepath.Abs(cmd.Path)
			if out, err := cmd.CombinedOutput(); err != nil {
				imagesErr = fmt.Errorf("mkiso.sh %v: %v\n%s", args, err, out)
				return
			}
		}
		src := filepath.Join(imagesDir, "bigsrc")
		script := "mkdir -p " + src + " && head -c 100663296 /dev/urandom >" + src + "/a.bin && head -c 100663296 /dev/urandom >" + src + "/b.bin" +
			" && xorriso -as mkisofs -R -o " + filepath.Join(imagesDir, "big.iso") + " " + src + " && rm -r " + src
		if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
			imagesErr = fmt.Errorf("big image: %v\n%s", err, out)
		}
	})
	if imagesErr != nil {
		tb.Fatal(imagesErr)
	}
	return filepath.Join(imagesDir, kind+".iso")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if imagesDir != "" {
		os.RemoveAll(imagesDir)
	}
	os.Exit(code)
}

// A reader lists every entry of an image (path -> "mode size sha256" for
// files, "dir" for directories), reading file contents if read is set.
type reader func(tb testing.TB, f *os.File, read bool) map[string]string

func sum(r io.Reader) string {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "error: " + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}

func readPxekit(tb testing.TB, f *os.File, read bool) map[string]string {
	fsys, err := isofs.Open(f)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]string)
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		switch {
		case d.IsDir():
			out[p] = "dir"
		case d.Type().IsRegular():
			s := ""
			if read {
				file, err := fsys.Open(p)
				if err != nil {
					return err
				}
				s = sum(file)
				file.Close()
			}
			info, _ := d.Info()
			out[p] = fmt.Sprint(info.Size(), " ", s)
		default:
			target, _ := fsys.ReadLink(p)
			out[p] = "link " + target
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func readKdomanski(tb testing.TB, f *os.File, read bool) map[string]string {
	img, err := kdiso.OpenImage(f)
	if err != nil {
		tb.Fatal(err)
	}
	root, err := img.RootDir()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]string)
	var walk func(dir *kdiso.File, prefix string)
	walk = func(dir *kdiso.File, prefix string) {
		children, err := dir.GetChildren()
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range children {
			p := path.Join(prefix, c.Name())
			switch {
			case c.IsDir():
				out[p] = "dir"
				walk(c, p)
			case c.Mode()&fs.ModeSymlink != 0:
				out[p] = "link ?" // the library exposes no link target
			default:
				s := ""
				if read {
					s = sum(c.Reader())
				}
				out[p] = fmt.Sprint(c.Size(), " ", s)
			}
		}
	}
	walk(root, "")
	return out
}

func readDiskfs(tb testing.TB, f *os.File, read bool) map[string]string {
	info, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	fsys, err := diskiso.Read(diskfsfile.New(f, true), info.Size(), 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]string)
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		switch {
		case d.IsDir():
			out[p] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			out[p] = "link ?"
		default:
			s := ""
			if read {
				file, err := fsys.Open(p)
				if err != nil {
					return err
				}
				s = sum(file)
				file.Close()
			}
			info, _ := d.Info()
			out[p] = fmt.Sprint(info.Size(), " ", s)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var readers = []struct {
	name string
	read reader
}{
	{"pxekit", readPxekit},
	{"kdomanski", readKdomanski},
	{"diskfs", readDiskfs},
}

// extracted is what xorriso extracts: the reference for every reader.
func extracted(t *testing.T, iso string) map[string]string {
	dir := t.TempDir()
	out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	want := make(map[string]string)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			want[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			want[rel] = "link " + target
		default:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			info, _ := f.Stat()
			want[rel] = fmt.Sprint(info.Size(), " ", sum(f))
			f.Close()
		}
		return nil
	})
	return want
}

// TestPeers compares every reader's names, sizes, link targets and sha256
// with what xorriso extracts, and reports (without failing for peers) what
// each gets wrong. pxekit must get everything right.
func TestPeers(t *testing.T) {
	for _, kind := range []string{"rr-xorriso", "many"} {
		iso := image(t, kind)
		want := extracted(t, iso)
		for _, r := range readers {
			f, err := os.Open(iso)
			if err != nil {
				t.Fatal(err)
			}
			got := r.read(t, f, true)
			f.Close()
			var bad []string
			for p, w := range want {
				if g, ok := got[p]; !ok {
					bad = append(bad, "missing "+p)
				} else if g != w && !(strings.HasPrefix(w, "link ") && g == "link ?") {
					bad = append(bad, fmt.Sprintf("wrong %s: %.40s, want %.40s", p, g, w))
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					bad = append(bad, "extra "+p)
				}
			}
			sort.Strings(bad)
			t.Logf("%s on %s: %d of %d entries wrong", r.name, kind, len(bad), len(want))
			for i, b := range bad {
				if i == 8 {
					t.Logf("  ... %d more", len(bad)-8)
					break
				}
				t.Logf("  %.160s", b)
			}
			if r.name == "pxekit" && len(bad) > 0 {
				t.Errorf("pxekit differs from xorriso")
			}
		}
	}
}

// Walkers open an image and visit every entry, touching its name, mode and
// size, and return the number of entries: the least work a server does.
var walkers = []struct {
	name string
	walk func(tb testing.TB, f *os.File) int
}{
	{"pxekit", func(tb testing.TB, f *os.File) int {
		fsys, err := isofs.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		return walkFS(tb, fsys, ".")
	}},
	{"kdomanski", func(tb testing.TB, f *os.File) int {
		img, err := kdiso.OpenImage(f)
		if err != nil {
			tb.Fatal(err)
		}
		root, err := img.RootDir()
		if err != nil {
			tb.Fatal(err)
		}
		var walk func(dir *kdiso.File) int
		walk = func(dir *kdiso.File) int {
			children, err := dir.GetChildren()
			if err != nil {
				tb.Fatal(err)
			}
			n := 0
			for _, c := range children {
				sink += len(c.Name()) + int(c.Mode()) + int(c.Size())
				n++
				if c.IsDir() {
					n += walk(c)
				}
			}
			return n
		}
		return walk(root)
	}},
	{"diskfs", func(tb testing.TB, f *os.File) int {
		info, err := f.Stat()
		if err != nil {
			tb.Fatal(err)
		}
		fsys, err := diskiso.Read(diskfsfile.New(f, true), info.Size(), 0, 0)
		if err != nil {
			tb.Fatal(err)
		}
		return walkFS(tb, fsys, ".")
	}},
}

// sink keeps the walkers' reads of names, modes and sizes from being
// optimized away.
var sink int

// walkFS visits the tree below dir the way kdomanski's walk does: it reads
// each directory and recurses, building a path only for directories (unlike
// fs.WalkDir, whose path.Join per entry would cost more than the libraries).
func walkFS(tb testing.TB, fsys fs.ReadDirFS, dir string) int {
	list, err := fsys.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, d := range list {
		info, err := d.Info()
		if err != nil {
			tb.Fatal(err)
		}
		sink += len(d.Name()) + int(info.Mode()) + int(info.Size())
		n++
		if d.IsDir() {
			n += walkFS(tb, fsys, path.Join(dir, d.Name()))
		}
	}
	return n
}

// cpuTime returns the user and system CPU time the process has used. The
// machine the benchmarks run on is shared, so wall time per operation
// depends on the load; CPU time per operation much less so.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openImage opens the image iso for b and closes it when b ends.
func openImage(b *testing.B, iso string) *os.File {
	b.Helper()
	f, err := os.Open(iso)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkWalk opens the 10,000-file Rock Ridge image and walks every
// entry (names, modes, sizes; no contents). Each reader must find 10,100
// entries (kdomanski/iso9660 finds fewer: see TestPeers).
func BenchmarkWalk(b *testing.B) {
	iso := image(b, "many")
	for _, w := range walkers {
		b.Run(w.name, func(b *testing.B) {
			f := openImage(b, iso)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if n := w.walk(b, f); n != 10100 && w.name == "pxekit" {
					b.Fatalf("%d entries, want 10100", n)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkReadMany opens the 10,000-file image, walks it and reads every
// byte of every file.
func BenchmarkReadMany(b *testing.B) {
	iso := image(b, "many")
	for _, r := range readers {
		b.Run(r.name, func(b *testing.B) {
			f := openImage(b, iso)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				r.read(b, f, true)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkWalkProcess times whole processes, as a user sees them: isowalk
// (./isowalk: open the 10,000-file image, walk it with fs.WalkDir, read
// every file to its end with io.Copy) against cat(1) of the same
// page-cached image to /dev/null, the two run in turn in each iteration
// (which goes first alternating). It reports the medians of each one's
// CPU time (user plus system) and wall time, and their ratios
// (isowalk/cat): the goal is a CPU ratio of at most 4.
func BenchmarkWalkProcess(b *testing.B) {
	iso := image(b, "many")
	bin := filepath.Join(b.TempDir(), "isowalk")
	if out, err := exec.Command("go", "build", "-o", bin, "./isowalk").CombinedOutput(); err != nil {
		b.Fatalf("go build ./isowalk: %v\n%s", err, out)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	run := func(name string, args ...string) (cpu, wall time.Duration) {
		cmd := exec.Command(name, args...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = devNull, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		wall = time.Since(start)
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), wall
	}
	run("cat", iso) // warm the page cache
	run(bin, iso)
	var catCPU, catWall, walkCPU, walkWall []time.Duration
	first := true
	for b.Loop() {
		for k := range 2 {
			if (k == 0) == first {
				c, w := run("cat", iso)
				catCPU, catWall = append(catCPU, c), append(catWall, w)
			} else {
				c, w := run(bin, iso)
				walkCPU, walkWall = append(walkCPU, c), append(walkWall, w)
			}
		}
		first = !first
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(median(catCPU)), "cat-cpu-ms")
	b.ReportMetric(ms(median(walkCPU)), "isowalk-cpu-ms")
	b.ReportMetric(float64(median(walkCPU))/float64(median(catCPU)), "cpu-ratio")
	b.ReportMetric(ms(median(catWall)), "cat-wall-ms")
	b.ReportMetric(ms(median(walkWall)), "isowalk-wall-ms")
	b.ReportMetric(float64(median(walkWall))/float64(median(catWall)), "wall-ratio")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSequential reads every byte of the two 96 MiB files of the big
// image, without hashing, against cat(1) of the whole (page-cached) image.
func BenchmarkSequential(b *testing.B) {
	iso := image(b, "big")
	info, err := os.Stat(iso)
	if err != nil {
		b.Fatal(err)
	}
	// Warm the page cache.
	if err := exec.Command("cat", iso).Run(); err != nil {
		b.Fatal(err)
	}
	b.Run("cat", func(b *testing.B) {
		b.SetBytes(info.Size())
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command("sh", "-c", "cat \"$0\" >/dev/null", iso)
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
	const files = 2 * 96 << 20
	copyAll := func(b *testing.B, open func(name string) (io.Reader, func())) {
		for _, name := range []string{"a.bin", "b.bin"} {
			r, done := open(name)
			n, err := io.Copy(io.Discard, r)
			done()
			if err != nil || n != 96<<20 {
				b.Fatalf("%s: %d bytes, %v", name, n, err)
			}
		}
	}
	b.Run("pxekit", func(b *testing.B) {
		f := openImage(b, iso)
		b.SetBytes(files)
		b.ReportAllocs()
		cpu := cpuTime()
		defer reportCPU(b, cpu)
		for b.Loop() {
			fsys, err := isofs.Open(f)
			if err != nil {
				b.Fatal(err)
			}
			copyAll(b, func(name string) (io.Reader, func()) {
				file, err := fsys.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				return file, func() { file.Close() }
			})
		}
	})
	b.Run("kdomanski", func(b *testing.B) {
		f := openImage(b, iso)
		b.SetBytes(files)
		b.ReportAllocs()
		cpu := cpuTime()
		defer reportCPU(b, cpu)
		for b.Loop() {
			img, err := kdiso.OpenImage(f)
			if err != nil {
				b.Fatal(err)
			}
			root, _ := img.RootDir()
			children, err := root.GetChildren()
			if err != nil {
				b.Fatal(err)
			}
			byName := map[string]*kdiso.File{}
			for _, c := range children {
				byName[c.Name()] = c
			}
			copyAll(b, func(name string) (io.Reader, func()) { return byName[name].Reader(), func() {} })
		}
	})
	b.Run("diskfs", func(b *testing.B) {
		f := openImage(b, iso)
		b.SetBytes(files)
		b.ReportAllocs()
		cpu := cpuTime()
		defer reportCPU(b, cpu)
		for b.Loop() {
			fsys, err := diskiso.Read(diskfsfile.New(f, true), info.Size(), 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			copyAll(b, func(name string) (io.Reader, func()) {
				file, err := fsys.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				return file, func() { file.Close() }
			})
		}
	})
}
