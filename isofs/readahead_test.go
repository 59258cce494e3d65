package isofs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// countingReader counts the ReadAt calls made on an image and the bytes
// they ask for.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// manyFiles opens the "many" image of mkiso.sh with files small files
// ("file <i>\n" each, made in the order of the image) through a
// countingReader, and returns the paths of its files in walk order.
func manyFiles(t *testing.T, files int) (*FS, *countingReader, []string) {
	t.Helper()
	img, err := os.ReadFile(makeImage(t, "many", fmt.Sprint(files)))
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: bytes.NewReader(img)}
	fsys, err := Open(cr)
	if err != nil {
		t.Fatal(err)
	}
	// The window is for images read from files (TestCostlyReads); here
	// the image is in memory, so that its reads can be counted.
	fsys.useRA = true
	var paths []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != files {
		t.Fatalf("walk found %d files, want %d", len(paths), files)
	}
	return fsys, cr, paths
}

// wantContent is what mkiso.sh wrote in the file at path p of the "many"
// image: directory-<i/100>/a-rock-ridge-file-name-<i>.txt holds "file <i>\n".
func wantContent(t *testing.T, p string) string {
	var d, i int
	if _, err := fmt.Sscanf(p, "directory-%d/a-rock-ridge-file-name-%d.txt", &d, &i); err != nil {
		t.Fatalf("unexpected path %q", p)
	}
	return fmt.Sprintf("file %d\n", i)
}

func readAll(t *testing.T, fsys *FS, paths []string) {
	t.Helper()
	for _, p := range paths {
		f, err := fsys.Open(p)
		if err != nil {
			t.Error(err)
			return
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(b) != wantContent(t, p) {
			t.Errorf("read %s = %q, %v; want %q", p, b, err, wantContent(t, p))
			return
		}
	}
}

// TestReadAheadInOrder reads every file of a 1,000-file image in walk
// order, which is image order: the small files must come in few reads of
// the image (a window each), not one each.
func TestReadAheadInOrder(t *testing.T) {
	const files = 1000
	fsys, cr, paths := manyFiles(t, files)
	cr.calls.Store(0)
	readAll(t, fsys, paths)
	// 2 KiB per file, 32 files per 64 KiB window, and the first read of
	// all goes to the image directly.
	if calls := cr.calls.Load(); calls > files/16 {
		t.Errorf("reading %d small files in image order took %d reads of the image, want at most %d", files, calls, files/16)
	}
}

// TestReadAheadOutOfOrder reads the files in reverse order: nothing is
// read ahead, so the image is asked for no more bytes than the files hold.
func TestReadAheadOutOfOrder(t *testing.T) {
	const files = 1000
	fsys, cr, paths := manyFiles(t, files)
	slices.Reverse(paths)
	var want int64
	for _, p := range paths {
		want += int64(len(wantContent(t, p)))
	}
	cr.bytes.Store(0)
	readAll(t, fsys, paths)
	if got := cr.bytes.Load(); got > want {
		t.Errorf("reading %d small files in reverse order asked the image for %d bytes, want at most the %d they hold", files, got, want)
	}
}

// TestReadAheadConcurrent reads every file from several goroutines at
// once, each in image order, for the race detector and for the contents.
func TestReadAheadConcurrent(t *testing.T) {
	fsys, _, paths := manyFiles(t, 1000)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { readAll(t, fsys, paths) })
	}
	wg.Wait()
}

// TestCostlyReads checks which readers get the read-ahead window: files
// (also within a SectionReader), not images in memory.
func TestCostlyReads(t *testing.T) {
	f, err := os.Open("testdata/small-rr.iso")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		r    io.ReaderAt
		want bool
	}{
		{"os.File", f, true},
		{"SectionReader of an os.File", io.NewSectionReader(f, 0, 1<<20), true},
		{"bytes.Reader", bytes.NewReader(nil), false},
		{"SectionReader of a bytes.Reader", io.NewSectionReader(bytes.NewReader(nil), 0, 0), false},
	} {
		if got := costlyReads(tc.r); got != tc.want {
			t.Errorf("costlyReads(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// nestedWriter collects what is written to it and, on each Write, reads
// another file of the same FS, as a writer that serves several files
// might: a read through the window while WriteTo holds it.
type nestedWriter struct {
	t     *testing.T
	fsys  *FS
	other string
	buf   bytes.Buffer
}

func (w *nestedWriter) Write(p []byte) (int, error) {
	if w.other != "" {
		b, err := w.fsys.ReadFile(w.other)
		if err != nil || string(b) != wantContent(w.t, w.other) {
			w.t.Errorf("ReadFile(%s) inside Write = %q, %v", w.other, b, err)
		}
	}
	return w.buf.Write(p)
}

// TestReadAheadWriteTo copies every file with io.Copy (File.WriteTo,
// which writes small files straight from the window) in image order:
// the contents are right, the reads of the image few, also when the
// writer reads other files of the FS meanwhile or the file was partly
// read first.
func TestReadAheadWriteTo(t *testing.T) {
	const files = 1000
	fsys, cr, paths := manyFiles(t, files)
	for _, nested := range []bool{false, true} {
		cr.calls.Store(0)
		for i, p := range paths {
			w := &nestedWriter{t: t, fsys: fsys}
			if nested {
				w.other = paths[(i+files/2)%files]
			}
			f, err := fsys.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			skip := i % 3 // bytes read before the copy
			head := make([]byte, skip)
			if _, err := io.ReadFull(f, head); err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(w, f)
			f.Close()
			want := wantContent(t, p)
			if got := string(head) + w.buf.String(); err != nil || got != want || n != int64(len(want)-skip) {
				t.Fatalf("nested %v: %s: copied %d bytes %q, %v; want %q", nested, p, n, got, err, want)
			}
		}
		if calls := cr.calls.Load(); !nested && calls > files/16 {
			t.Errorf("copying %d small files in image order took %d reads of the image, want at most %d", files, calls, files/16)
		}
	}
}

// failingWriter accepts max bytes and then fails, or writes short.
type failingWriter struct {
	max   int
	short bool
}

var errWriter = errors.New("writer failed")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.max {
		w.max -= len(p)
		return len(p), nil
	}
	n := w.max
	w.max = 0
	if w.short {
		return n, nil
	}
	return n, errWriter
}

// TestWriteToErrors: a writer's error, or a short write, ends WriteTo
// with the bytes written so far, and the file offset moves by them; for a
// file copied from the window (the third, the first two read before: the
// second filled the window) and one not (the first).
func TestWriteToErrors(t *testing.T) {
	for _, short := range []bool{false, true} {
		for _, i := range []int{0, 2} {
			fsys, cr, paths := manyFiles(t, 100)
			for _, p := range paths[:i] {
				if _, err := fsys.ReadFile(p); err != nil {
					t.Fatal(err)
				}
			}
			f, err := fsys.Open(paths[i])
			if err != nil {
				t.Fatal(err)
			}
			cr.calls.Store(0)
			want := wantContent(t, paths[i])
			n, err := f.(io.WriterTo).WriteTo(&failingWriter{max: 3, short: short})
			if wantErr := map[bool]error{false: errWriter, true: io.ErrShortWrite}[short]; n != 3 || err != wantErr {
				t.Errorf("short %v, file %d: WriteTo = %d, %v; want 3, %v", short, i, n, err, wantErr)
			}
			rest, err := io.ReadAll(f)
			if err != nil || string(rest) != want[3:] {
				t.Errorf("short %v, file %d: the rest after WriteTo = %q, %v; want %q", short, i, rest, err, want[3:])
			}
			if i > 0 && cr.calls.Load() != 0 {
				t.Errorf("file %d: %d reads of the image, want none (it is in the window)", i, cr.calls.Load())
			}
			f.Close()
		}
	}
}
