package isofs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func openTestdata(t testing.TB, name string, opts Options) *FS {
	t.Helper()
	fsys, err := OpenWith(bytes.NewReader(readTestdata(t, name)), opts)
	if err != nil {
		t.Fatalf("OpenWith(%s): %v", name, err)
	}
	return fsys
}

// TestTestdata runs fstest.TestFS on the committed images in every tree
// they have; it needs no external program.
func TestTestdata(t *testing.T) {
	for _, tc := range []struct {
		file  string
		names NameSource
		want  []string
	}{
		{"small-rr.iso", NamesAuto, []string{"hello.txt", "sub/blocks.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt"}},
		{"small-rr.iso", NamesJoliet, []string{"hello.txt", "sub/blocks.txt"}},
		{"small-rr.iso", NamesPlain, []string{"HELLO.TXT", "SUB/BLOCKS.TXT"}},
		{"small-geniso.iso", NamesAuto, []string{"hello.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt"}},
		{"small-geniso.iso", NamesPlain, []string{"HELLO.TXT", "RR_MOVED"}},
		{"small-plain.iso", NamesAuto, []string{"HELLO.TXT"}},
		{"small-eltorito.iso", NamesAuto, []string{"readme", "boot/efi.img"}},
	} {
		t.Run(tc.file+"/"+tc.names.String(), func(t *testing.T) {
			fsys := openTestdata(t, tc.file, Options{Names: tc.names, BootDir: "eltorito"})
			if err := fstest.TestFS(fsys, tc.want...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNameSources(t *testing.T) {
	for _, tc := range []struct {
		file  string
		names NameSource
		want  NameSource
		err   error
	}{
		{"small-rr.iso", NamesAuto, NamesRockRidge, nil},
		{"small-rr.iso", NamesJoliet, NamesJoliet, nil},
		{"small-plain.iso", NamesAuto, NamesPlain, nil},
		{"small-plain.iso", NamesRockRidge, 0, ErrNoTree},
		{"small-plain.iso", NamesJoliet, 0, ErrNoTree},
		{"small-rr.iso", NameSource(9), 0, fs.ErrInvalid},
	} {
		fsys, err := OpenWith(bytes.NewReader(readTestdata(t, tc.file)), Options{Names: tc.names})
		if !errors.Is(err, tc.err) {
			t.Errorf("OpenWith(%s, %v) error = %v, want %v", tc.file, tc.names, err, tc.err)
			continue
		}
		if err == nil && fsys.Volume().Names != tc.want {
			t.Errorf("OpenWith(%s, %v).Volume().Names = %v, want %v", tc.file, tc.names, fsys.Volume().Names, tc.want)
		}
	}
}

func TestRockRidgeAttributes(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	info, err := fsys.Stat("hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != 0o600 {
		t.Errorf("hello.txt mode = %v, want -rw-------", info.Mode())
	}
	st, ok := info.Sys().(*Stat)
	if !ok {
		t.Fatalf("Sys() = %T, want *Stat", info.Sys())
	}
	if st.Mode != 0o100600 || st.Nlink != 1 {
		t.Errorf("Sys() = %+v, want st_mode 0100600 and 1 link", st)
	}
	if y := info.ModTime().Year(); y < 2020 {
		t.Errorf("ModTime() = %v", info.ModTime())
	}
	vol := fsys.Volume()
	if !vol.RockRidge || !vol.Joliet || vol.ElTorito || vol.BlockSize != 2048 {
		t.Errorf("Volume() = %+v", vol)
	}
	if !slices.Contains(vol.Extensions, "IEEE_1282") && !slices.Contains(vol.Extensions, "RRIP_1991A") && !slices.Contains(vol.Extensions, "IEEE_P1282") {
		t.Errorf("Volume().Extensions = %q, want a Rock Ridge ER identifier", vol.Extensions)
	}
}

func TestSymlinks(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	target, err := fsys.ReadLink("sub/link")
	if err != nil || target != "../hello.txt" {
		t.Errorf("ReadLink(sub/link) = %q, %v; want ../hello.txt", target, err)
	}
	li, err := fsys.Lstat("sub/link")
	if err != nil || li.Mode().Type() != fs.ModeSymlink || li.Name() != "link" {
		t.Errorf("Lstat(sub/link) = %v, %v", li, err)
	}
	si, err := fsys.Stat("sub/link")
	if err != nil || !si.Mode().IsRegular() || si.Name() != "link" || si.Size() != 6 {
		t.Errorf("Stat(sub/link) = %v, %v; want the regular file hello.txt named link", si, err)
	}
	b, err := fs.ReadFile(fsys, "sub/link")
	if err != nil || string(b) != "hello\n" {
		t.Errorf("ReadFile(sub/link) = %q, %v", b, err)
	}
	// fs.ReadLinkFS through fs.ReadLink and fs.Lstat.
	if tgt, err := fs.ReadLink(fsys, "sub/link"); err != nil || tgt != target {
		t.Errorf("fs.ReadLink = %q, %v", tgt, err)
	}
}

// TestSymlinkResolution follows links inside the image, with a MapFS-free
// check of each rule on the corpus image made by xorriso.
func TestSymlinkResolution(t *testing.T) {
	fsys := openImage(t, makeImage(t, "rr-xorriso"), Options{})
	for _, tc := range []struct{ name, want string }{
		{"link", "hello, world\n"},                   // relative
		{"abslink", "hello, world\n"},                // absolute: from the image root
		{"dirlink/tool", "#!/bin/sh\necho tool\n"},   // through a directory link
		{"deep/level1/level2/up", "hello, world\n"},  // ../../../ climbs to the root
		{"data/tool-link", "#!/bin/sh\necho tool\n"}, // ../ then down
	} {
		b, err := fsys.ReadFile(tc.name)
		if err != nil || string(b) != tc.want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", tc.name, b, err, tc.want)
		}
	}
	list, err := fsys.ReadDir("dirlink")
	if err != nil || len(list) != 2 {
		t.Errorf("ReadDir(dirlink) = %v, %v; want bin's two entries", list, err)
	}
}

func TestFileReadAtSeek(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	file, err := fsys.Open("sub/blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := file.(*File)
	if !ok {
		t.Fatalf("Open returned %T, want *File", file)
	}
	var _ io.ReaderAt = f
	var _ io.Seeker = f
	if f.Size() != 3000 {
		t.Errorf("Size() = %d", f.Size())
	}
	b := make([]byte, 10)
	if n, err := f.ReadAt(b, 2995); n != 5 || err != io.EOF {
		t.Errorf("ReadAt(2995) = %d, %v; want 5, EOF", n, err)
	}
	if pos, err := f.Seek(-4, io.SeekEnd); pos != 2996 || err != nil {
		t.Errorf("Seek(-4, End) = %d, %v", pos, err)
	}
	n, err := f.Read(b)
	if n != 4 || err != nil || string(b[:4]) != "xxxx" {
		t.Errorf("Read after Seek = %d %q, %v", n, b[:n], err)
	}
	if _, err := f.Read(b); err != io.EOF {
		t.Errorf("Read at end = %v, want EOF", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(b, 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close = %v, want ErrClosed", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestConcurrent reads and walks one FS from many goroutines; run with
// -race it checks the concurrency contract of FS and File.ReadAt.
func TestConcurrent(t *testing.T) {
	img := readTestdata(t, "small-geniso.iso")
	fsys, err := Open(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	want, err := fsys.ReadFile("sub/blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := fsys.Open("sub/blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			if err := walkAll(fsys, 100_000, 16<<20); err != nil {
				t.Error(err)
			}
			b := make([]byte, 100)
			for off := int64(g); off < int64(len(want))-100; off += 97 {
				if _, err := shared.(*File).ReadAt(b, off); err != nil || !bytes.Equal(b, want[off:off+100]) {
					t.Errorf("ReadAt(%d) = %q, %v", off, b, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDirFile(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	f, err := fsys.Open("sub")
	if err != nil {
		t.Fatal(err)
	}
	d := f.(fs.ReadDirFile)
	if _, err := d.Read(make([]byte, 1)); err == nil {
		t.Error("Read of a directory succeeded")
	}
	var names []string
	for {
		list, err := d.ReadDir(1)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, list[0].Name())
	}
	if len(names) != 4 || names[0] != "a" {
		t.Errorf("ReadDir(1) loop = %q", names)
	}
	d.Close()
	if _, err := d.ReadDir(-1); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadDir after Close = %v", err)
	}
}

func TestTimes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"\x7d\x0b\x16\x02\x34\x3a\x00", time.Date(2025, 11, 22, 2, 52, 58, 0, time.UTC)},
		{"\x7d\x0b\x16\x02\x34\x3a\x04", time.Date(2025, 11, 22, 2, 52, 58, 0, time.FixedZone("", 3600))},
		{"\x7d\x0d\x16\x02\x34\x3a\x00", time.Time{}}, // month 13
		{"\x00\x00\x00\x00\x00\x00\x00", time.Time{}},
	} {
		if got := shortTime(tc.in); !got.Equal(tc.want) {
			t.Errorf("shortTime(% x) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2021020717255000\x00", time.Date(2021, 2, 7, 17, 25, 50, 0, time.UTC)},
		{"2021020717255012\xfc", time.Date(2021, 2, 7, 17, 25, 50, 120e6, time.FixedZone("", -3600))},
		{"0000000000000000\x00", time.Time{}},
		{"20210207172550xx\x00", time.Time{}},
	} {
		if got := longTime(tc.in); !got.Equal(tc.want) {
			t.Errorf("longTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HELLO.TXT;1", "HELLO.TXT"},
		{"README.;1", "README"},
		{"README.", "README"},
		{"NOVERSION", "NOVERSION"},
		{"A;1;2", "A;1"},
	} {
		if got := plainName(tc.in); got != tc.want {
			t.Errorf("plainName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"\x00h\x00i\x00;\x001", "hi"},
		{"\x00\xdc\x00\xe9", "Üé"},
		{"\xd8\x3d\xde\x80", "🚀"},    // surrogate pair
		{"\xd8\x3d\x00a", "\ufffda"}, // unpaired high surrogate
		{"\x00a\x00", "a\ufffd"},     // odd length
	} {
		if got := jolietName(tc.in); got != tc.want {
			t.Errorf("jolietName(% x) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestHTTPServeContent serves files through net/http.FileServerFS, which
// uses http.ServeContent: range requests must read just the range.
func TestHTTPServeContent(t *testing.T) {
	img := readTestdata(t, "small-rr.iso")
	fsys, err := Open(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	want, err := fsys.ReadFile("sub/blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	h := http.FileServerFS(fsys)
	for _, tc := range []struct {
		rng    string
		status int
		body   []byte
	}{
		{"", http.StatusOK, want},
		{"bytes=100-199", http.StatusPartialContent, want[100:200]},
		{"bytes=-10", http.StatusPartialContent, want[len(want)-10:]},
		{"bytes=2990-", http.StatusPartialContent, want[2990:]},
	} {
		req := httptest.NewRequest("GET", "/sub/blocks.txt", nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || !bytes.Equal(rec.Body.Bytes(), tc.body) {
			t.Errorf("GET Range %q = %d, %d bytes; want %d, %d bytes", tc.rng, rec.Code, rec.Body.Len(), tc.status, len(tc.body))
		}
	}
	// A directory listing and a link followed to its target.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sub/link", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "hello\n" {
		t.Errorf("GET /sub/link = %d %q", rec.Code, rec.Body.String())
	}
}

func TestBootDirName(t *testing.T) {
	img := readTestdata(t, "small-eltorito.iso")
	for _, name := range []string{".", "a/b", "/x", ".."} {
		if _, err := OpenWith(bytes.NewReader(img), Options{BootDir: name}); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("OpenWith(BootDir %q) error = %v, want ErrInvalid", name, err)
		}
	}
	// A root entry of the same name wins over the boot directory.
	fsys, err := OpenWith(bytes.NewReader(img), Options{BootDir: "boot"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("boot/bios.img"); err != nil {
		t.Errorf("Stat(boot/bios.img) = %v; the image's own boot directory must stay", err)
	}
	if _, err := fsys.Stat("boot/1-bios.img"); err == nil {
		t.Errorf("Stat(boot/1-bios.img) succeeded; the synthetic directory must not shadow a real one")
	}
}

// TestBootDirBuiltOnce checks that the boot directory is built when the
// FS is opened, not on every call: looking up a boot image costs no
// allocation, and listing the root costs what it costs without BootDir.
func TestBootDirBuiltOnce(t *testing.T) {
	img := readTestdata(t, "small-eltorito.iso")
	plain, err := Open(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := OpenWith(bytes.NewReader(img), Options{BootDir: "eltorito"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"eltorito", "eltorito/1-bios.img"} {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := fsys.Stat(name); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Stat(%q): %v allocations, want 0", name, n)
		}
	}
	readRoot := func(fsys *FS) float64 {
		return testing.AllocsPerRun(100, func() {
			if _, err := fsys.ReadDir("."); err != nil {
				t.Fatal(err)
			}
		})
	}
	if got, want := readRoot(fsys), readRoot(plain); got != want {
		t.Errorf("ReadDir(\".\") with BootDir: %v allocations, want %v as without", got, want)
	}
}

// TestStatAllocs checks that looking up a path through decoded
// directories allocates nothing, however deep it is.
func TestStatAllocs(t *testing.T) {
	fsys := openTestdata(t, "small-rr.iso", Options{})
	for _, name := range []string{"hello.txt", "sub/a/b/c/d/e/f/g/h/i/deep.txt"} {
		if _, err := fsys.Stat(name); err != nil { // decode the directories
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { fsys.Stat(name) }); n != 0 {
			t.Errorf("Stat(%q): %v allocations, want 0", name, n)
		}
	}
}
