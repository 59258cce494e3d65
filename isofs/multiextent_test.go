package isofs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// bigSize is just over 4 GiB, so xorriso must store the file in two
// extents (ECMA-119 §6.5.1: a directory record's data length is 32 bits).
const bigSize = 4<<30 + 3<<20 + 123

// bigMarks are the offsets where the sparse source file holds data: the
// start, both sides of the first extent's end, and the last bytes.
var bigMarks = []int64{0, 4<<30 - 2048 - 20, 4<<30 - 2048 - 4, 4<<30 + 5, bigSize - 16}

func bigMark(off int64) []byte { return []byte(fmt.Sprintf("@%015d", off)) }

// makeBigImage has xorriso make an image with a sparse file over 4 GiB and
// stores the image sparsely (runs of zeros are skipped, not written), so the
// test costs little disk and about the time xorriso takes to stream 4 GiB.
func makeBigImage(t *testing.T) string {
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(bigSize); err != nil {
		t.Fatal(err)
	}
	for _, off := range bigMarks {
		if _, err := f.WriteAt(bigMark(off), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "small.txt"), []byte("small\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	image := filepath.Join(dir, "big.iso")
	out, err := os.Create(image)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(xorriso, "-outdev", "-", "-map", src, "/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n, copyErr := sparseCopy(out, pipe)
	if err := cmd.Wait(); err != nil || copyErr != nil {
		t.Fatalf("xorriso: %v, copy: %v\n%s", err, copyErr, stderr.Bytes())
	}
	if err := out.Truncate(n); err != nil {
		t.Fatal(err)
	}
	if info, err := out.Stat(); err == nil {
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			t.Logf("%s: %d bytes, %d on disk", image, info.Size(), st.Blocks*512)
		}
	}
	return image
}

// sparseCopy copies r to f, skipping blocks of zeros.
func sparseCopy(f *os.File, r io.Reader) (int64, error) {
	const block = 64 << 10
	buf := make([]byte, 1<<20)
	zero := make([]byte, block)
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		for i := 0; i < n; i += block {
			b := buf[i:min(i+block, n)]
			if !bytes.Equal(b, zero[:len(b)]) {
				if _, werr := f.WriteAt(b, off+int64(i)); werr != nil {
					return off, werr
				}
			}
		}
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
	}
}

var reportLBA = regexp.MustCompile(`^File data lba:\s+(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'`)

// TestMultiExtent reads a file of over 4 GiB that xorriso split into
// extents: its size, its extents against xorriso -find -exec report_lba,
// and the marked bytes, also across the extent boundary, through ReadAt,
// Seek+Read and fstest.
func TestMultiExtent(t *testing.T) {
	t.Parallel()
	image := makeBigImage(t)
	fsys := openImage(t, image, Options{})

	out, err := exec.Command("xorriso", "-indev", image, "-find", "/big.bin", "-exec", "report_lba").CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso report_lba: %v\n%s", err, out)
	}
	// Columns: extent number, start block, blocks, file size, path.
	var want []extent
	var pos, total int64
	for line := range strings.Lines(string(out)) {
		m := reportLBA.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		lba, _ := strconv.ParseInt(m[2], 10, 64)
		blocks, _ := strconv.ParseInt(m[3], 10, 64)
		total, _ = strconv.ParseInt(m[4], 10, 64)
		want = append(want, extent{pos: pos, off: lba * 2048, size: blocks * 2048})
		pos += blocks * 2048
	}
	if len(want) < 2 || total != bigSize {
		t.Fatalf("xorriso reports %d extents of a %d-byte file, want 2 or more of %d:\n%s", len(want), total, bigSize, out)
	}
	want[len(want)-1].size -= pos - total // the last extent ends with the file

	n, _, err := fsys.resolve("big.bin", true)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*n.ext) != fmt.Sprint(want) {
		t.Errorf("extents = %v, xorriso reports %v", *n.ext, want)
	}
	info, err := fsys.Stat("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != bigSize {
		t.Errorf("Size() = %d, want %d", info.Size(), bigSize)
	}

	file, err := fsys.Open("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	f := file.(*File)
	if sr, ok := f.Section(); ok {
		_, off, n := sr.Outer()
		t.Errorf("Section() of a file of %d extents = at %d, %d bytes; want none", len(want), off, n)
	}
	for _, off := range bigMarks {
		got := make([]byte, 16)
		if _, err := f.ReadAt(got, off); err != nil {
			t.Errorf("ReadAt(%d): %v", off, err)
		}
		if want := bigMark(off); !bytes.Equal(got, want) {
			t.Errorf("ReadAt(%d) = %q, want %q", off, got, want)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, bigMark(off)) {
			t.Errorf("Seek(%d)+Read = %q, %v", off, got, err)
		}
	}
	// One read across the first extent's end, which lies between marks
	// 1 and 2 or after them.
	span := make([]byte, 64<<10)
	start := want[0].size - int64(len(span))/2
	if _, err := f.ReadAt(span, start); err != nil {
		t.Fatalf("ReadAt across extents: %v", err)
	}
	for _, off := range bigMarks {
		if off >= start && off+16 <= start+int64(len(span)) {
			if got := span[off-start : off-start+16]; !bytes.Equal(got, bigMark(off)) {
				t.Errorf("ReadAt across extents: at %d %q, want %q", off, got, bigMark(off))
			}
		}
	}
	// Past the end.
	if n, err := f.ReadAt(make([]byte, 32), bigSize-16); n != 16 || err != io.EOF {
		t.Errorf("ReadAt at end-16 = %d, %v; want 16, EOF", n, err)
	}
	b, err := fsys.ReadFile("small.txt")
	if err != nil || string(b) != "small\n" {
		t.Errorf("ReadFile(small.txt) = %q, %v", b, err)
	}
}
