package isofs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestLastDirSkipsCache: a lookup in the directory the previous one ended
// in starts there (FS.last), so it asks the cache for nothing.
func TestLastDirSkipsCache(t *testing.T) {
	fsys, err := Open(bytes.NewReader(readTestdata(t, "small-rr.iso")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("sub/blocks.txt"); err != nil {
		t.Fatal(err)
	}
	_, hits0, misses0, _ := fsys.cacheStats()
	for _, name := range []string{"sub/blocks.txt", "sub/link", "sub/a", "sub/Ünïcödé with a long name that needs more than one record.txt", "sub/blocks.txt"} {
		if _, err := fsys.Lstat(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, hits, misses, _ := fsys.cacheStats(); hits != hits0 || misses != misses0 {
		t.Errorf("5 lookups in the last directory made %d cache hits and %d misses, want none", hits-hits0, misses-misses0)
	}
}

// TestLastDirSameAnswers: a name resolved from the last directory gets the
// answer a lookup from the root gives, for invalid names, missing ones,
// links and other directories too.
func TestLastDirSameAnswers(t *testing.T) {
	img := readTestdata(t, "small-rr.iso")
	names := []string{
		"sub/blocks.txt", "sub/link", "sub/a", "sub/a/b/c/d/e/f/g/h/i/deep.txt", "sub/nope", "sub/nope/x",
		"sub/blocks.txt/x", "sub/.", "sub/..", "sub/...", "sub/.x", "sub/ü", "sub/a/b/c", "sub/a/./b", "sub/a/", "sub/a/\xff", "sub/../hello.txt", "sub//blocks.txt", "sub/blocks.txt/",
		"sub/./blocks.txt", "sub/\xff", "sub", "subx/blocks.txt", "sub/link/x", "hello.txt", ".",
	}
	type answer struct {
		name string
		size int64
		mode fs.FileMode
		err  error
	}
	ask := func(fsys *FS, name string, follow bool) answer {
		var info fs.FileInfo
		var err error
		if follow {
			info, err = fsys.Stat(name)
		} else {
			info, err = fsys.Lstat(name)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return answer{err: err}
		}
		return answer{info.Name(), info.Size(), info.Mode(), nil}
	}
	for _, follow := range []bool{true, false} {
		for _, prime := range []string{"sub/blocks.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt", "sub/link"} {
			for _, name := range names {
				fresh, err := Open(bytes.NewReader(img))
				if err != nil {
					t.Fatal(err)
				}
				want := ask(fresh, name, follow)
				fsys, err := Open(bytes.NewReader(img))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fsys.Lstat(prime); err != nil {
					t.Fatal(err)
				}
				if got := ask(fsys, name, follow); got != want {
					t.Errorf("follow %v, after %q: %q gives %+v, from the root %+v", follow, prime, name, got, want)
				}
			}
		}
	}
}

// TestLastDirDropped: a directory the cache cannot keep is decoded again
// on every lookup; FS.last does not keep it past the bound.
func TestLastDirDropped(t *testing.T) {
	fsys, err := OpenWith(bytes.NewReader(readTestdata(t, "small-rr.iso")), Options{MaxCacheBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("sub/blocks.txt"); err != nil {
		t.Fatal(err)
	}
	_, _, misses0, _ := fsys.cacheStats()
	for range 3 {
		if _, err := fsys.Stat("sub/blocks.txt"); err != nil {
			t.Fatal(err)
		}
	}
	// Each lookup decodes the root (too large for a bound of 1 byte to
	// pin) and sub again, and asks the cache twice for each (dirOf and
	// loadDir).
	if _, _, misses, _ := fsys.cacheStats(); misses-misses0 != 12 {
		t.Errorf("3 lookups in a directory the cache cannot keep made %d misses, want 12", misses-misses0)
	}
}

// TestLastDirConcurrent reads files of different directories from several
// goroutines at once, so that FS.last changes under them (run with -race).
func TestLastDirConcurrent(t *testing.T) {
	img := readTestdata(t, "small-rr.iso")
	fsys, err := Open(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"sub/blocks.txt", "hello.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt", "sub/link"}
	want := make(map[string]string)
	for _, name := range names {
		ref, err := Open(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		b, err := ref.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = string(b)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				name := names[(g+i)%len(names)]
				b, err := fsys.ReadFile(name)
				if err != nil || string(b) != want[name] {
					t.Errorf("%s: %d bytes, %v", name, len(b), err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLookupNoAllocs: looking up files in turn in two directories, each
// lookup moving FS.last, allocates nothing once the directories are
// decoded; opening a file allocates its File of 32 bytes only.
func TestLookupNoAllocs(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	names := []string{"sub/blocks.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt"}
	for _, name := range names {
		if _, err := fsys.Stat(name); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, name := range names {
			fsys.Stat(name)
		}
	}); n != 0 {
		t.Errorf("Stat in two directories in turn: %v allocations, want 0", n)
	}
	const opens = 1000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range opens {
		f, err := fsys.Open(names[0])
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	runtime.ReadMemStats(&after)
	if got := (after.TotalAlloc - before.TotalAlloc) / opens; got > 32 {
		t.Errorf("Open+Close: %d bytes, want at most 32", got)
	}
}

// TestFileLikeSectionReader: an open File's Read, ReadAt and Seek behave
// as those of an io.SectionReader over its contents (which File held
// before it was cut to 32 bytes), over a random sequence of calls.
func TestFileLikeSectionReader(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	for _, name := range []string{"sub/blocks.txt", "hello.txt"} {
		content, err := fsys.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		file := f.(*File)
		ref := io.NewSectionReader(bytes.NewReader(content), 0, int64(len(content)))
		rng := rand.New(rand.NewPCG(1, 2))
		size := len(content)
		for step := range 2000 {
			var got, want string
			switch op := rng.IntN(3); op {
			case 0:
				n := rng.IntN(size + 100)
				b1, b2 := make([]byte, n), make([]byte, n)
				n1, err1 := file.Read(b1)
				n2, err2 := ref.Read(b2)
				got, want = fmt.Sprint(n1, err1, string(b1[:n1])), fmt.Sprint(n2, err2, string(b2[:n2]))
			case 1:
				n, off := rng.IntN(size+100), int64(rng.IntN(size+200)-50)
				b1, b2 := make([]byte, n), make([]byte, n)
				n1, err1 := file.ReadAt(b1, off)
				n2, err2 := ref.ReadAt(b2, off)
				got, want = fmt.Sprint(n1, err1, string(b1[:n1])), fmt.Sprint(n2, err2, string(b2[:n2]))
			case 2:
				off, whence := int64(rng.IntN(size+200)-100), rng.IntN(4)
				p1, err1 := file.Seek(off, whence)
				p2, err2 := ref.Seek(off, whence)
				if err1 != nil || err2 != nil {
					p1, p2 = 0, 0 // the position after a failed Seek is not specified
				}
				got, want = fmt.Sprint(p1, err1), fmt.Sprint(p2, err2)
			}
			if got != want {
				t.Fatalf("%s, step %d: File gives %.80s, io.SectionReader %.80s", name, step, got, want)
			}
		}
		f.Close()
	}
}
