package isofs

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestFileSection checks [File.Section] against where xorriso says each
// file's data lies (xorriso -find -exec report_lba): a file of one extent
// is a section of the image's *os.File at its start block, as long as the
// file, holding its bytes; an empty file, a zisofs-compressed one and a
// closed file have none.
func TestFileSection(t *testing.T) {
	for _, tc := range []struct {
		kind string
		args []string
	}{
		{"hybrid", nil},
		{"rr-xorriso", nil},
		{"zisofs", []string{"32k"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			image := makeImage(t, tc.kind, tc.args...)
			img, err := os.Open(image)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			fsys, err := Open(img)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("xorriso", "-indev", image, "-find", "/", "-type", "f", "-exec", "report_lba").CombinedOutput()
			if err != nil {
				t.Fatalf("xorriso report_lba: %v\n%s", err, out)
			}
			compressed := map[string]bool{}
			if tc.kind == "zisofs" {
				for _, name := range zisofsFiles {
					compressed[name] = true
				}
			}
			seen := 0
			for line := range strings.Lines(string(out)) {
				m := reportLBA.FindStringSubmatch(strings.TrimSpace(line))
				if m == nil {
					continue
				}
				lba, _ := strconv.ParseInt(m[2], 10, 64)
				size, _ := strconv.ParseInt(m[4], 10, 64)
				name := strings.TrimPrefix(m[5], "/")
				file, err := fsys.Open(name)
				if err != nil {
					t.Errorf("Open(%s): %v", name, err)
					continue
				}
				seen++
				sr, ok := file.(*File).Section()
				switch {
				case compressed[name] || size == 0:
					if ok {
						r, off, n := sr.Outer()
						t.Errorf("%s (%d bytes, compressed %v): Section() = %T at %d, %d bytes; want none", name, size, compressed[name], r, off, n)
					}
				case !ok:
					t.Errorf("%s: Section() found none; xorriso reports block %d, %d bytes", name, lba, size)
				default:
					r, off, n := sr.Outer()
					if r != io.ReaderAt(img) || off != lba*2048 || n != size {
						t.Errorf("%s: Section() = %T at %d, %d bytes; xorriso reports the image at %d, %d bytes", name, r, off, n, lba*2048, size)
					}
					got, err := io.ReadAll(sr)
					want, _ := fsys.ReadFile(name)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s: the section reads %d bytes (%v), not the file's %d", name, len(got), err, len(want))
					}
				}
				file.Close()
				if _, ok := file.(*File).Section(); ok {
					t.Errorf("%s: Section() of a closed file", name)
				}
			}
			if seen < 5 {
				t.Fatalf("xorriso reported %d files:\n%s", seen, out)
			}
		})
	}
}

// TestBootImageSection checks the Section of El Torito boot images: the
// EFI image that xorriso appended after the volume (hidden-efi), and a
// catalog entry made hostile, whose image must never reach past the
// image's end.
func TestBootImageSection(t *testing.T) {
	t.Run("appended", func(t *testing.T) {
		testenv.NeedCommand(t, "xorriso")
		b, err := os.ReadFile(makeImage(t, "hidden-efi"))
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := Open(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := fsys.BootImages()
		if err != nil {
			t.Fatal(err)
		}
		past := false
		for i, bi := range imgs {
			f, err := fsys.OpenBootImage(i)
			if err != nil {
				t.Fatal(err)
			}
			sr, ok := f.Section()
			if !ok {
				t.Fatalf("boot image %d (%s): no Section", i, bi.Name)
			}
			_, off, n := sr.Outer()
			if off != int64(bi.LBA)*2048 || n != bi.Size || off+n > int64(len(b)) {
				t.Errorf("boot image %d: section at %d, %d bytes; want %d, %d inside %d", i, off, n, int64(bi.LBA)*2048, bi.Size, len(b))
			}
			if off+n > fsys.limit {
				past = true
			}
			got, _ := io.ReadAll(sr)
			want, _ := io.ReadAll(f)
			if !bytes.Equal(got, want) || int64(len(got)) != n {
				t.Errorf("boot image %d: section reads %d bytes, the file %d", i, len(got), len(want))
			}
		}
		if !past {
			t.Errorf("no boot image lies past the volume (%d bytes): the test images changed", fsys.limit)
		}
	})
	base := readTestdata(t, "small-eltorito.iso")
	fsys, err := Open(bytes.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	entry := int(fsys.bootOff) + 32 // the initial/default entry (El Torito §2.2)
	for _, tc := range []struct {
		name string
		lba  uint32
	}{
		{"at the last block", uint32(len(base)/2048 - 1)},
		{"past the end", uint32(len(base) / 2048)},
		{"far past the end", 1<<32 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := bytes.Clone(base)
			binary.LittleEndian.PutUint32(img[entry+8:], tc.lba)
			binary.LittleEndian.PutUint16(img[entry+6:], 0xffff) // sector count
			fsys, err := Open(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenBootImage(0)
			if err != nil {
				t.Fatal(err)
			}
			sr, ok := f.Section()
			if !ok {
				return
			}
			_, off, n := sr.Outer()
			if off+n > int64(len(img)) || n <= 0 {
				t.Errorf("LBA %d: section at %d, %d bytes, past the image's %d", tc.lba, off, n, len(img))
			}
		})
	}
}
