package isofs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// zisofsFiles are the files testdata/mkiso.sh zisofs compresses.
var zisofsFiles = []string{"text.txt", "sub/numbers.txt", "sub/one-block.txt", "zeros.bin"}

// TestZisofs reads the compressed files of xorriso-made zisofs images of
// each block size whole, at offsets around every block boundary, in small
// sequential reads and concurrently, and compares them with what xorriso
// extracts.
func TestZisofs(t *testing.T) {
	for _, bs := range []int{32 << 10, 64 << 10, 128 << 10} {
		t.Run(fmt.Sprintf("%dk", bs>>10), func(t *testing.T) {
			image := makeImage(t, "zisofs", fmt.Sprintf("%dk", bs>>10))
			fsys := openImage(t, image, Options{})
			for _, name := range zisofsFiles {
				want := extractFile(t, image, name)
				n, _, err := fsys.lookup(name, false)
				if err != nil {
					t.Fatal(err)
				}
				if n.flags&nodeZisofs == 0 {
					t.Fatalf("%s: no zisofs ZF entry seen", name)
				}
				testZisofsFile(t, fsys, name, want, bs)
			}
		})
	}
}

func testZisofsFile(t *testing.T, fsys *FS, name string, want []byte, bs int) {
	t.Helper()
	info, err := fsys.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != int64(len(want)) {
		t.Errorf("Stat(%s).Size() = %d, want %d", name, info.Size(), len(want))
	}
	got, err := fsys.ReadFile(name)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile(%s) = %d bytes, %v; want the %d bytes xorriso extracts", name, len(got), err, len(want))
	}
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file := f.(*File)
	size := len(want)
	var offs []int
	for b := 0; b <= size; b += bs {
		offs = append(offs, b, b+1, b+bs-1)
	}
	offs = append(offs, size-1, size)
	for _, off := range offs {
		for _, l := range []int{1, 511, bs, bs + 7, 3 * bs} {
			if off < 0 || off > size {
				continue
			}
			p := make([]byte, l)
			n, err := file.ReadAt(p, int64(off))
			wn := min(l, size-off)
			if n != wn || !bytes.Equal(p[:n], want[off:off+wn]) {
				t.Fatalf("%s: ReadAt(%d bytes, %d) = %d, %v; want %d bytes as extracted", name, l, off, n, err, wn)
			}
			if wn < l && err != io.EOF {
				t.Fatalf("%s: ReadAt(%d bytes, %d) short with err %v, want io.EOF", name, l, off, err)
			}
			if wn == l && err != nil {
				t.Fatalf("%s: ReadAt(%d bytes, %d): %v", name, l, off, err)
			}
		}
	}
	// Sequential reads of TFTP's block size.
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var seq bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := file.Read(buf)
		seq.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: Read: %v", name, err)
		}
	}
	if !bytes.Equal(seq.Bytes(), want) {
		t.Errorf("%s: 512-byte Reads gave %d bytes, not the %d extracted", name, seq.Len(), len(want))
	}
	// Concurrent ReadAt of the same file, across blocks (run with -race).
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			p := make([]byte, 1000)
			for off := g * 300; off < size; off += 4999 {
				n, err := file.ReadAt(p, int64(off))
				if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], want[off:off+n]) {
					t.Errorf("%s: concurrent ReadAt at %d = %d, %v", name, off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// zisofsImage returns the 32k-block zisofs image's bytes, and the byte
// offsets of name's recorded data and of its ZF entry.
func zisofsImage(t *testing.T, name string) (img []byte, data, zf int) {
	t.Helper()
	img, err := os.ReadFile(makeImage(t, "zisofs", "32k"))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := fsys.lookup(name, false)
	if err != nil {
		t.Fatal(err)
	}
	data = int((*n.ext)[0].off)
	dir, base := ".", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, base = strings.ToUpper(name[:i]), name[i+1:]
	}
	rec := record(t, img, dir, strings.ToUpper(base))
	zf = bytes.Index(img[rec:rec+int(img[rec])], []byte("ZF\x10\x01pz"))
	if zf < 0 {
		t.Fatalf("%s: no ZF entry in its record", name)
	}
	return img, data, rec + zf
}

// TestZisofsHostile damages the zisofs header, block table and blocks of
// a file: each must give an error wrapping ErrCorrupt (no panic, no
// allocation of the size claimed), and the other files stay readable.
func TestZisofsHostile(t *testing.T) {
	const name = "text.txt" // 102000 bytes: 4 blocks of 32 KiB
	cases := []struct {
		name    string
		mutate  func(img []byte, data, zf int)
		openErr bool // Open fails; else reading does
	}{
		{"header magic", func(img []byte, data, zf int) { img[data] ^= 0xFF }, true},
		{"header size differs from ZF", func(img []byte, data, zf int) { img[data+8]++ }, true},
		{"header block size 2^30", func(img []byte, data, zf int) { img[data+13] = 30 }, true},
		{"header size 0", func(img []byte, data, zf int) { img[data+12] = 0 }, true},
		{"size of 4 GiB, table past the end", func(img []byte, data, zf int) {
			binary.LittleEndian.PutUint32(img[zf+8:], 0xFFFFFFF0)
			binary.BigEndian.PutUint32(img[zf+12:], 0xFFFFFFF0)
			binary.LittleEndian.PutUint32(img[data+8:], 0xFFFFFFF0)
		}, true},
		{"pointer past the file", func(img []byte, data, zf int) {
			binary.LittleEndian.PutUint32(img[data+16+8:], 0x7FFFFFFF)
		}, false},
		{"pointer into the table", func(img []byte, data, zf int) {
			binary.LittleEndian.PutUint32(img[data+16:], 4)
		}, false},
		{"pointers decreasing", func(img []byte, data, zf int) {
			p := binary.LittleEndian.Uint32(img[data+16+4:])
			binary.LittleEndian.PutUint32(img[data+16+8:], p-1)
		}, false},
		{"block garbled", func(img []byte, data, zf int) {
			p := binary.LittleEndian.Uint32(img[data+16:])
			for i := range 40 {
				img[data+int(p)+10+i] ^= 0x55
			}
		}, false},
		{"zlib header", func(img []byte, data, zf int) {
			p := binary.LittleEndian.Uint32(img[data+16:])
			img[data+int(p)] = 0
		}, false},
		{"checksum", func(img []byte, data, zf int) {
			p := binary.LittleEndian.Uint32(img[data+16+4:])
			img[data+int(p)-1] ^= 1 // last byte of block 0's Adler-32
		}, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			img, data, zf := zisofsImage(t, name)
			tt.mutate(img, data, zf)
			fsys, err := Open(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			_, err = fsys.ReadFile(name)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("ReadFile(%s) error = %v, want ErrCorrupt", name, err)
			}
			f, err := fsys.Open(name)
			if tt.openErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("Open(%s) error = %v, want ErrCorrupt", name, err)
				}
			} else {
				if err != nil {
					t.Fatalf("Open(%s): %v", name, err)
				}
				_, err = io.Copy(io.Discard, f)
				f.Close()
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("io.Copy from %s: error = %v, want ErrCorrupt", name, err)
				}
			}
			if b, err := fsys.ReadFile("sub/numbers.txt"); err != nil || len(b) != 108890 {
				t.Errorf("ReadFile(sub/numbers.txt) = %d bytes, %v after damage to %s", len(b), err, name)
			}
		})
	}
}

// BenchmarkZisofsRead reads a 102000-byte zisofs file (32 KiB blocks) as a
// TFTP transfer does, in 512-byte reads, and as io.Copy does; SetBytes
// counts uncompressed bytes.
func BenchmarkZisofsRead(b *testing.B) {
	img, err := os.ReadFile(makeImage(b, "zisofs", "32k"))
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := Open(bytes.NewReader(img))
	if err != nil {
		b.Fatal(err)
	}
	for _, bench := range []struct {
		name string
		read func(f *File) error
	}{
		{"512", func(f *File) error {
			var p [512]byte
			for off := int64(0); ; off += 512 {
				if _, err := f.ReadAt(p[:], off); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		}},
		{"copy", func(f *File) error { _, err := f.WriteTo(io.Discard); return err }},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetBytes(102000)
			b.ReportAllocs()
			for b.Loop() {
				f, err := fsys.Open("text.txt")
				if err != nil {
					b.Fatal(err)
				}
				if err := bench.read(f.(*File)); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// TestZisofsReadAtAllocs: a read inside the block last inflated costs no
// allocation.
func TestZisofsReadAtAllocs(t *testing.T) {
	fsys := openImage(t, makeImage(t, "zisofs", "32k"), Options{})
	f, err := fsys.Open("text.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.(io.ReaderAt)
	buf := make([]byte, 512)
	r.ReadAt(buf, 40000)
	if n := testing.AllocsPerRun(100, func() { r.ReadAt(buf, 40000+512) }); n != 0 {
		t.Errorf("ReadAt inside the cached block: %v allocations, want 0", n)
	}
}
