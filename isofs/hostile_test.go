package isofs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"
)

// walkAll opens fsys's every entry the way a server would: it walks the
// tree, reads every regular file, every link target and every boot image.
// It stops after maxEntries entries, and reads file contents only until
// maxRead bytes have been read: files of a hostile image may all share one
// large extent, so reading them all costs entries × image size.
func walkAll(fsys *FS, maxEntries int, maxRead int64) error {
	count, read := 0, int64(0)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if count++; count > maxEntries {
			return errors.New("walkAll: too many entries")
		}
		switch {
		case d.Type().IsRegular() && read < maxRead:
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			crc := crc32.NewIEEE()
			n, err := io.Copy(crc, f)
			if err == nil {
				err = checkSection(fsys, f.(*File), crc.Sum32())
			}
			f.Close()
			if err != nil {
				return err
			}
			read += 3 * n
			if _, err := fsys.ReadFile(p); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			if _, err := fsys.ReadLink(p); err != nil {
				return err
			}
			// A link may dangle, but a loop must be reported as one.
			if _, err := fsys.Stat(p); errors.Is(err, ErrLinkLoop) {
				return err
			}
		}
		return nil
	})
	imgs, berr := fsys.BootImages()
	for i := range imgs {
		f, ferr := fsys.OpenBootImage(i)
		if ferr != nil {
			return ferr
		}
		crc := crc32.NewIEEE()
		_, cerr := io.Copy(crc, f)
		if cerr == nil {
			if serr := checkSection(fsys, f, crc.Sum32()); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		f.Close()
	}
	return errors.Join(err, berr)
}

// errBadSection marks a [File.Section] that breaks its contract; walkAll
// returns it, and TestHostile and FuzzOpen fail on it.
var errBadSection = errors.New("isofs test: bad Section")

// checkSection checks f's Section against its contents, whose CRC-32 is
// sum: a section must be of the image, lie inside it, be as long as the
// file and hold its bytes; a file without one must be empty, special,
// multi-extent or compressed.
func checkSection(fsys *FS, f *File, sum uint32) error {
	sr, ok := f.Section()
	if !ok {
		if f.n.mode.IsRegular() && f.n.size > 0 && f.n.ext == nil {
			return fmt.Errorf("%w: %s: a file of one extent has none", errBadSection, f.n.name)
		}
		return nil
	}
	r, off, n := sr.Outer()
	if r != fsys.r || off < 0 || n != f.Size() || n <= 0 || f.n.ext != nil {
		return fmt.Errorf("%w: %s: section at %d of %d bytes (file of %d)", errBadSection, f.n.name, off, n, f.Size())
	}
	if s, ok := r.(interface{ Size() int64 }); ok && off+n > s.Size() {
		return fmt.Errorf("%w: %s: section %d+%d ends past the image's %d bytes", errBadSection, f.n.name, off, n, s.Size())
	}
	crc := crc32.NewIEEE()
	if k, err := io.Copy(crc, sr); err != nil || k != n || crc.Sum32() != sum {
		return fmt.Errorf("%w: %s: section reads %d of %d bytes (%v), or other bytes than the file", errBadSection, f.n.name, k, n, err)
	}
	return nil
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// record finds the directory record of name (its ECMA-119 identifier without
// version, e.g. "HELLO.TXT") in the directory dir of img and returns its
// byte offset in img.
func record(t testing.TB, img []byte, dir, name string) int {
	t.Helper()
	fsys, err := OpenWith(bytes.NewReader(img), Options{Names: NamesPlain})
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := fsys.resolve(dir, true)
	if err != nil {
		t.Fatalf("resolve(%s): %v", dir, err)
	}
	for pos := n.off; pos < n.off+n.size; {
		l := int64(img[pos])
		if l == 0 {
			pos = (pos/2048 + 1) * 2048
			continue
		}
		id, _, _ := dirRecord(img[pos : pos+l]).split()
		if plainName(id) == name {
			return int(pos)
		}
		pos += l
	}
	t.Fatalf("no record %s in %s", name, dir)
	return 0
}

func put32(b []byte, off int, v uint32) {
	binary.LittleEndian.PutUint32(b[off:], v)
	binary.BigEndian.PutUint32(b[off+4:], v)
}

const pvd = 16 * 2048

// hostileCases are small-rr.iso with one field made hostile, and the error
// each must yield (nil: any error or none, but no panic). FuzzOpen takes
// them as seeds.
var hostileCases = []struct {
	name   string
	mutate func(t testing.TB, b []byte) []byte
	want   error
}{
	{"not ISO", func(t testing.TB, b []byte) []byte { b[pvd+1] = 'X'; return b }, ErrNotISO},
	{"empty", func(t testing.TB, b []byte) []byte { return nil }, ErrNotISO},
	{"truncated in the descriptors", func(t testing.TB, b []byte) []byte { return b[:pvd+100] }, ErrNotISO},
	{"truncated at half", func(t testing.TB, b []byte) []byte { return b[:len(b)/2] }, ErrTruncated},
	{"truncated by one byte", func(t testing.TB, b []byte) []byte {
		return b[:int(binary.LittleEndian.Uint32(b[pvd+80:]))*2048-1]
	}, ErrTruncated},
	{"volume size beyond the end", func(t testing.TB, b []byte) []byte { put32(b, pvd+80, 1<<31); return b }, ErrTruncated},
	{"block size 3", func(t testing.TB, b []byte) []byte { b[pvd+128] = 3; return b }, ErrCorrupt},
	{"no terminator", func(t testing.TB, b []byte) []byte {
		for i := 17; i < 90; i++ { // copies of the PVD instead of the set terminator
			off := i * 2048
			if off+2048 > len(b) {
				break
			}
			copy(b[off:off+2048], b[pvd:pvd+2048])
		}
		return b
	}, ErrCorrupt},
	{"root past the end", func(t testing.TB, b []byte) []byte { put32(b, pvd+156+2, 0x7fffffff); return b }, ErrCorrupt},
	{"root size 4 GiB", func(t testing.TB, b []byte) []byte { put32(b, pvd+156+10, 0xffffffff); return b }, ErrCorrupt},
	{"root size 0", func(t testing.TB, b []byte) []byte { put32(b, pvd+156+10, 0); return b }, ErrCorrupt},
	{"directory past the end", func(t testing.TB, b []byte) []byte {
		put32(b, record(t, b, ".", "SUB")+2, uint32(len(b)/2048+10))
		return b
	}, ErrCorrupt},
	{"directory size 4 GiB", func(t testing.TB, b []byte) []byte {
		put32(b, record(t, b, ".", "SUB")+10, 0xffffffff)
		return b
	}, ErrCorrupt},
	{"directory is the root", func(t testing.TB, b []byte) []byte {
		put32(b, record(t, b, ".", "SUB")+2, binary.LittleEndian.Uint32(b[pvd+156+2:]))
		return b
	}, ErrCorrupt},
	{"directory is its parent", func(t testing.TB, b []byte) []byte {
		sub := binary.LittleEndian.Uint32(b[record(t, b, ".", "SUB")+2:])
		put32(b, record(t, b, "SUB", "A")+2, sub)
		return b
	}, ErrCorrupt},
	{"file past the end", func(t testing.TB, b []byte) []byte {
		put32(b, record(t, b, ".", "HELLO.TXT")+2, 0xfffffff)
		return b
	}, ErrCorrupt},
	{"file size 4 GiB", func(t testing.TB, b []byte) []byte {
		put32(b, record(t, b, ".", "HELLO.TXT")+10, 0xffffffff)
		return b
	}, ErrCorrupt},
	{"record length 5", func(t testing.TB, b []byte) []byte {
		b[record(t, b, ".", "HELLO.TXT")] = 5
		return b
	}, ErrCorrupt},
	{"record length past the directory", func(t testing.TB, b []byte) []byte {
		r := record(t, b, "SUB", "BLOCKS.TXT")
		b[r] = 255
		return b
	}, nil}, // may decode as garbage records; must not panic
	{"identifier longer than the record", func(t testing.TB, b []byte) []byte {
		b[record(t, b, ".", "HELLO.TXT")+32] = 250
		return b
	}, ErrCorrupt},
	{"multi-extent without its last extent", func(t testing.TB, b []byte) []byte {
		b[record(t, b, "SUB", "BLOCKS.TXT")+25] |= flagMultiExtent
		return b
	}, nil}, // ErrCorrupt unless another record happens to follow
	{"SUSP entry longer than the area", func(t testing.TB, b []byte) []byte {
		r := record(t, b, ".", "HELLO.TXT")
		i := bytes.Index(b[r:r+int(b[r])], []byte("PX"))
		b[r+i+2] = 250
		return b
	}, ErrCorrupt},
	{"CE loop", func(t testing.TB, b []byte) []byte {
		// Replace the PX entry (36 or 44 bytes) of HELLO.TXT by a CE
		// entry (28 bytes) pointing back at itself, and a PD.
		r := record(t, b, ".", "HELLO.TXT")
		i := r + bytes.Index(b[r:r+int(b[r])], []byte("PX"))
		px := int(b[i+2])
		ce := b[i : i+28]
		copy(ce, "CE\x1c\x01")
		put32(ce, 4, uint32(i/2048))  // block
		put32(ce, 12, uint32(i%2048)) // offset
		put32(ce, 20, uint32(px))     // length
		copy(b[i+28:i+px], []byte{'P', 'D', byte(px - 28), 1})
		return b
	}, ErrCorrupt},
	{"CE past the end", func(t testing.TB, b []byte) []byte {
		r := record(t, b, ".", "HELLO.TXT")
		i := r + bytes.Index(b[r:r+int(b[r])], []byte("PX"))
		px := int(b[i+2])
		ce := b[i : i+28]
		copy(ce, "CE\x1c\x01")
		put32(ce, 4, 0xffffff)
		put32(ce, 12, 0)
		put32(ce, 20, 100)
		copy(b[i+28:i+px], []byte{'P', 'D', byte(px - 28), 1})
		return b
	}, ErrCorrupt},
	{"link loop", func(t testing.TB, b []byte) []byte {
		// sub/link -> ../hello.txt becomes ../sub//link: itself.
		r := record(t, b, "SUB", "LINK")
		i := r + bytes.Index(b[r:r+int(b[r])], []byte("hello.txt"))
		copy(b[i:], "sub//link")
		return b
	}, ErrLinkLoop},
	{"catalog past the end", func(t testing.TB, b []byte) []byte {
		// Turn the Joliet descriptor at 17 into an El Torito boot record.
		vd := b[17*2048 : 18*2048]
		clear(vd)
		vd[0] = 0
		copy(vd[1:], "CD001\x01EL TORITO SPECIFICATION")
		binary.LittleEndian.PutUint32(vd[71:], 0xfffffff)
		return b
	}, ErrCorrupt},
	{"catalog checksum", func(t testing.TB, b []byte) []byte {
		vd := b[17*2048 : 18*2048]
		clear(vd)
		copy(vd[1:], "CD001\x01EL TORITO SPECIFICATION")
		binary.LittleEndian.PutUint32(vd[71:], 20) // a block that is no catalog
		b[20*2048] = 1
		b[20*2048+30], b[20*2048+31] = 0x55, 0xAA
		return b
	}, ErrCorrupt},
}

// TestHostile opens images of the corpus with one field made hostile and
// checks that the damage surfaces as the right error, without a panic or a
// hang, when opening, walking or checking the image.
func TestHostile(t *testing.T) {
	base := readTestdata(t, "small-rr.iso")
	for _, tt := range hostileCases {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.mutate(t, bytes.Clone(base))
			err := openAndWalk(img)
			if errors.Is(err, errBadSection) {
				t.Fatal(err)
			}
			if tt.want == nil {
				t.Logf("error: %v", err)
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("open and walk: %v, want %v", err, tt.want)
			}
		})
	}
}

func openAndWalk(img []byte) error { return openAndWalkLimits(img, 100_000, 16<<20) }

// walkTrees are the trees openAndWalkLimits opens an image with.
var walkTrees = []NameSource{NamesAuto, NamesPlain, NamesJoliet}

// openAndWalkLimits opens img with each name tree, walks it (walkAll with
// maxEntries and maxRead) and checks it.
func openAndWalkLimits(img []byte, maxEntries int, maxRead int64) error {
	var errs []error
	for _, names := range walkTrees {
		werrs, err := walkTree(bytes.NewReader(img), names, maxEntries, maxRead)
		if errors.Is(err, ErrNoTree) {
			continue
		}
		if err != nil {
			return err
		}
		errs = append(errs, werrs...)
	}
	return errors.Join(errs...)
}

// walkTree opens r with the tree names (openErr is OpenWith's error), walks
// it with walkAll and checks it, and returns what these found. Small files
// are read through the read-ahead window, as from an *os.File, so that
// hostile images and the fuzzer reach it (and ReadFile after io.Copy
// reads each again without it).
func walkTree(r io.ReaderAt, names NameSource, maxEntries int, maxRead int64) (errs []error, openErr error) {
	fsys, err := OpenWith(r, Options{Names: names, BootDir: "eltorito"})
	if err != nil {
		return nil, err
	}
	fsys.useRA = true
	errs = append(errs, walkAll(fsys, maxEntries, maxRead))
	// Damage that a walk does not meet, because the damaged entry is not
	// listed, must still show in Check.
	return append(errs, fsys.Check()...), nil
}

// TestHostileAllocation checks that no hostile image makes the reader
// allocate more than a small multiple of the image's own size: every
// length and count read from an image is checked against the image before
// memory is sized by it.
func TestHostileAllocation(t *testing.T) {
	base := readTestdata(t, "small-rr.iso")
	mutants := map[string][]byte{"base": base}
	set := func(name string, f func(b []byte)) {
		b := bytes.Clone(base)
		f(b)
		mutants[name] = b
	}
	vol := binary.LittleEndian.Uint32(base[pvd+80:]) * 2048
	root := binary.LittleEndian.Uint32(base[pvd+156+2:]) * 2048
	set("root covers the volume", func(b []byte) { put32(b, pvd+156+10, vol-root) })
	set("root size 64 MiB", func(b []byte) { put32(b, pvd+156+10, 64<<20) })
	set("volume 8 TiB", func(b []byte) { put32(b, pvd+80, 0xffffffff) })
	set("every record length 255", func(b []byte) {
		for i := int(root); i < int(root)+2048; i++ {
			if b[i] == 0x22 || b[i] > 0x30 && b[i] < 0x80 {
				b[i] = 0xff
			}
		}
	})
	var limit uint64 = 4 << 20 // the allowance for fixed costs
	for name, img := range mutants {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := openAndWalk(img)
			runtime.ReadMemStats(&after)
			got := after.TotalAlloc - before.TotalAlloc
			max := limit + 8*uint64(len(img))
			t.Logf("allocated %d bytes for a %d-byte image (bound %d); error: %v", got, len(img), max, err)
			if got > max {
				t.Errorf("allocated %d bytes, more than %d", got, max)
			}
		})
	}
}

func TestErrorsArePathErrors(t *testing.T) {
	fsys, err := Open(bytes.NewReader(readTestdata(t, "small-rr.iso")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		op   string
		call func() error
		want error
	}{
		{"open missing", func() error { _, err := fsys.Open("missing"); return err }, fs.ErrNotExist},
		{"open invalid", func() error { _, err := fsys.Open("/hello.txt"); return err }, fs.ErrInvalid},
		{"open under a file", func() error { _, err := fsys.Open("hello.txt/x"); return err }, fs.ErrNotExist},
		{"stat missing", func() error { _, err := fsys.Stat("sub/missing"); return err }, fs.ErrNotExist},
		{"readlink of a file", func() error { _, err := fsys.ReadLink("hello.txt"); return err }, fs.ErrInvalid},
		{"readdir of a file", func() error { _, err := fsys.ReadDir("hello.txt"); return err }, nil},
		{"readfile of a dir", func() error { _, err := fsys.ReadFile("sub"); return err }, nil},
	} {
		err := tc.call()
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v is not a *fs.PathError", tc.op, err)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.op, err, tc.want)
		}
		if strings.Contains(pe.Path, "/hello") && tc.op != "open invalid" {
			t.Errorf("%s: path %q", tc.op, pe.Path)
		}
	}
}

// TestLoopsAnyCacheBound: a directory that is the root, or its own
// parent, is reported whatever the cache keeps: with the root pinned
// (the default bound), with nothing kept (1), and with bounds at which
// the root is cached but too large to pin.
func TestLoopsAnyCacheBound(t *testing.T) {
	base := readTestdata(t, "small-rr.iso")
	for _, tt := range hostileCases {
		if !strings.HasPrefix(tt.name, "directory is") {
			continue
		}
		img := tt.mutate(t, bytes.Clone(base))
		for _, max := range []int64{0, 1, 1000, 2000, 4000, 8000, 16000} {
			fsys, err := OpenWith(bytes.NewReader(img), Options{MaxCacheBytes: max})
			if err == nil {
				err = walkAll(fsys, 1000, 1<<20)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s, MaxCacheBytes %d: open and walk: %v, want %v", tt.name, max, err, ErrCorrupt)
			}
		}
	}
}
