package isofs

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func (f *FS) cacheStats() (size, hits, misses, evictions int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &f.cache
	return c.size, c.hits, c.misses, c.evictions
}

// TestCacheBound walks an image of 2,000 files in 20 directories through an
// FS whose cache may hold about a fifth of its directories, then reads the
// files in an order that goes through the directories in turn: the cache
// must stay within its bound at every step, directories must be dropped and
// decoded again, and every file must still read as what mkiso.sh wrote.
func TestCacheBound(t *testing.T) {
	const files, dirs = 2000, 20
	image := makeImage(t, "many", fmt.Sprint(files))

	// The cost of the whole tree, from an FS without a bound.
	full := openImage(t, image, Options{MaxCacheBytes: -1})
	if err := fs.WalkDir(full, ".", func(string, fs.DirEntry, error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	total, _, _, evicted := full.cacheStats()
	if evicted != 0 {
		t.Fatalf("unbounded cache dropped %d directories", evicted)
	}
	max := total / 5
	t.Logf("tree: %d bytes in the cache, bound %d", total, max)

	fsys := openImage(t, image, Options{MaxCacheBytes: max})
	checkBound := func() {
		t.Helper()
		if size, _, _, _ := fsys.cacheStats(); size > max {
			t.Fatalf("cache holds %d bytes, bound %d", size, max)
		}
	}
	readFile := func(p string, i int) {
		t.Helper()
		b, err := fsys.ReadFile(p)
		if want := fmt.Sprintf("file %d\n", i); err != nil || string(b) != want {
			t.Fatalf("ReadFile(%s) = %q, %v, want %q", p, b, err, want)
		}
		checkBound()
	}
	n := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		checkBound()
		if d.Type().IsRegular() {
			var i int
			if _, err := fmt.Sscanf(d.Name(), "a-rock-ridge-file-name-%d.txt", &i); err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			readFile(p, i)
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != files {
		t.Fatalf("walk found %d files, want %d", n, files)
	}
	for k := range files {
		d := k % dirs
		i := d*files/dirs + k/dirs
		readFile(fmt.Sprintf("directory-%d/a-rock-ridge-file-name-%d.txt", d, i), i)
	}
	size, hits, misses, evicted := fsys.cacheStats()
	t.Logf("cache: %d bytes, %d hits, %d misses, %d directories dropped", size, hits, misses, evicted)
	if evicted == 0 || misses <= dirs+1 {
		t.Errorf("%d directories dropped and %d misses for %d directories: the bound did not bite", evicted, misses, dirs+1)
	}
}

// TestCacheTiny serves images through an FS whose cache keeps no
// directory, or about one: every lookup decodes the directories again.
func TestCacheTiny(t *testing.T) {
	for _, name := range []string{"small-rr.iso", "small-geniso.iso", "small-eltorito.iso"} {
		for _, max := range []int64{1, 3000} {
			t.Run(fmt.Sprintf("%s/%d", name, max), func(t *testing.T) {
				img := readTestdata(t, name)
				fsys, err := OpenWith(bytes.NewReader(img), Options{MaxCacheBytes: max, BootDir: "eltorito"})
				if err != nil {
					t.Fatal(err)
				}
				var files []string
				fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() && !strings.HasPrefix(p, "eltorito/") {
						files = append(files, p)
					}
					return nil
				})
				if len(files) == 0 {
					t.Fatal("no files")
				}
				if err := fstest.TestFS(fsys, files...); err != nil {
					t.Error(err)
				}
				if size, _, _, _ := fsys.cacheStats(); size > max {
					t.Errorf("cache holds %d bytes, bound %d", size, max)
				}
				if errs := fsys.Check(); errs != nil {
					t.Errorf("Check: %v", errs)
				}
			})
		}
	}
}

// TestRootDirPinned: the root directory, which every lookup starts from,
// is kept out of the cache's list when it fits in a quarter of the bound,
// so that looking a name up in it touches neither the cache nor its lock;
// a root too large for that stays in the list, within the bound.
func TestRootDirPinned(t *testing.T) {
	img := readTestdata(t, "small-rr.iso")
	for _, tc := range []struct {
		max    int64
		pinned bool
	}{{0, true}, {-1, true}, {1, false}} {
		fsys, err := OpenWith(bytes.NewReader(img), Options{MaxCacheBytes: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Stat("hello.txt"); err != nil {
			t.Fatal(err)
		}
		_, hits0, misses0, _ := fsys.cacheStats()
		for range 10 {
			if _, err := fsys.Stat("hello.txt"); err != nil {
				t.Fatal(err)
			}
		}
		size, hits, misses, _ := fsys.cacheStats()
		if got := hits == hits0 && misses == misses0; got != tc.pinned {
			t.Errorf("MaxCacheBytes %d: 10 Stats of a root file made %d cache hits and %d misses; pinned = %v, want %v", tc.max, hits-hits0, misses-misses0, got, tc.pinned)
		}
		if tc.max > 0 && size > tc.max {
			t.Errorf("MaxCacheBytes %d: cache holds %d bytes", tc.max, size)
		}
	}
}
