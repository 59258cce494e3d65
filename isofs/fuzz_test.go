package isofs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
)

// FuzzOpen's inputs are edits of a base image, so that they stay small
// (Go's fuzzer mutates and minimizes an input in time that grows with its
// length, quadratically when minimizing) while each stands for a whole
// image. The first byte k picks the base fuzzBaseNames[k%len] and the tree
// walkTrees[k/len%3]; then come edits, each a 16-bit block b, a 16-bit
// offset o and a length byte n followed by n bytes, written at byte o%2048
// of a block: the base's b-th block that is not all zeros when b is below
// their count h (so most edits land on descriptors, directories and SUSP
// areas), else block b-h of the image. An image grows to hold the edits
// and to the volume size its primary descriptor gives, up to fuzzMaxImage;
// edits beyond it are ignored. Inputs longer than fuzzMaxInput are
// skipped: they add no coverage, and so are neither kept nor minimized
// (which takes the fuzzer up to a minute for an input of a few kilobytes,
// when nothing else runs). The bases' file contents are zeroed
// (zeroFileData), which leaves every structure in place and costs nothing
// to the coverage of a walk.
const (
	fuzzMaxImage   = 2 << 20
	fuzzMaxEntries = 5000      // entries a walk visits (walkAll)
	fuzzMaxRead    = 256 << 10 // bytes of file contents a walk reads
	fuzzMaxInput   = 256       // bytes of an input; longer ones are skipped
)

// fuzzBaseNames are the base images: none (an empty image), the committed
// images, and images of testdata/mkiso.sh when xorriso and genisoimage are
// installed (else they too are empty). Inputs committed under
// testdata/fuzz/FuzzOpen should use the first five, which are the same
// everywhere.
var fuzzBaseNames = []string{
	"", "small-rr.iso", "small-geniso.iso", "small-plain.iso", "small-eltorito.iso",
	"mkiso plain-l1", "mkiso joliet", "mkiso rr-geniso", "mkiso rr-xorriso",
	"mkiso zisofs",
}

type fuzzBase struct {
	img []byte // file contents zeroed
	hot []int  // blocks of img that are not all zeros
}

func fuzzBases(tb testing.TB) []fuzzBase {
	tb.Helper()
	haveTools := false
	if _, err := exec.LookPath("xorriso"); err == nil {
		if _, err := exec.LookPath("genisoimage"); err == nil {
			haveTools = true
		}
	}
	bases := make([]fuzzBase, len(fuzzBaseNames))
	for i, name := range fuzzBaseNames {
		var img []byte
		switch {
		case name == "":
		case len(name) > 6 && name[:6] == "mkiso ":
			if !haveTools {
				continue
			}
			b, err := os.ReadFile(makeImage(tb, name[6:]))
			if err != nil {
				tb.Fatal(err)
			}
			img = b
		default:
			img = readTestdata(tb, name)
		}
		img = zeroFileData(img)
		if len(img) > fuzzMaxImage {
			tb.Fatalf("fuzz base %s: %d bytes, more than %d", name, len(img), fuzzMaxImage)
		}
		bases[i].img = img
		for blk := 0; blk*2048 < len(img); blk++ {
			if !allZero(img[blk*2048 : min(len(img), (blk+1)*2048)]) {
				bases[i].hot = append(bases[i].hot, blk)
			}
		}
	}
	return bases
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// zeroFileData returns a copy of img with the contents of every regular
// file of every tree zeroed, but for a file that holds the El Torito boot
// catalog and for zisofs-compressed files (whose headers, block tables and
// zlib streams are structures to fuzz).
func zeroFileData(img []byte) []byte {
	out := bytes.Clone(img)
	keep := map[int64]bool{}
	if fsys, err := OpenWith(bytes.NewReader(img), Options{Names: NamesRockRidge}); err == nil {
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if n, ok := d.(*node); ok && err == nil && n.flags&nodeZisofs != 0 {
				for _, e := range *n.ext {
					keep[e.off] = true
				}
			}
			return nil
		})
	}
	for _, names := range []NameSource{NamesPlain, NamesRockRidge, NamesJoliet} {
		fsys, err := OpenWith(bytes.NewReader(img), Options{Names: names})
		if err != nil {
			continue
		}
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			n := d.(*node)
			ext := []extent{{off: n.off, size: n.size}}
			if n.ext != nil {
				ext = *n.ext
			}
			for _, e := range ext {
				if fsys.bootOff >= e.off && fsys.bootOff < e.off+e.size || keep[e.off] {
					continue
				}
				clear(out[e.off:min(int64(len(out)), e.off+e.size)])
			}
			return nil
		})
	}
	return out
}

// fuzzTree returns the tree that the fuzz input in asks for.
func fuzzTree(bases []fuzzBase, in []byte) NameSource {
	if len(in) == 0 {
		return walkTrees[0]
	}
	return walkTrees[int(in[0])/len(bases)%len(walkTrees)]
}

// edited makes the image that the fuzz input in stands for.
func edited(bases []fuzzBase, in []byte) []byte {
	if len(in) == 0 {
		return nil
	}
	base := bases[int(in[0])%len(bases)]
	img := bytes.Clone(base.img)
	for in = in[1:]; len(in) >= 5; {
		blk, off := int(binary.LittleEndian.Uint16(in)), int(binary.LittleEndian.Uint16(in[2:]))%2048
		n := min(int(in[4]), len(in)-5)
		data := in[5 : 5+n]
		in = in[5+n:]
		if blk < len(base.hot) {
			blk = base.hot[blk]
		} else {
			blk -= len(base.hot)
		}
		pos := blk*2048 + off
		if pos+n > fuzzMaxImage {
			continue
		}
		if pos+n > len(img) {
			img = append(img, make([]byte, pos+n-len(img))...)
		}
		copy(img[pos:], data)
	}
	if len(img) >= 17*2048 && string(img[16*2048+1:16*2048+6]) == "CD001" {
		vol := int(binary.LittleEndian.Uint32(img[16*2048+80:])) * 2048
		if vol > len(img) && vol <= fuzzMaxImage {
			img = append(img, make([]byte, vol-len(img))...)
		}
	}
	return img
}

// editsOf returns the fuzz input that makes, of base number i of bases,
// the image img with the bytes in which img differs from orig (the base's
// image before its file contents were zeroed): one edit, in absolute block
// numbers, per run of such bytes.
func editsOf(bases []fuzzBase, i int, orig, img []byte) []byte {
	in := []byte{byte(i)}
	at := func(p int) byte {
		if p < len(orig) {
			return orig[p]
		}
		return 0
	}
	hot := len(bases[i].hot)
	for p := 0; p < len(img); {
		if img[p] == at(p) {
			p++
			continue
		}
		end := p + 1
		for end < len(img) && end-p < 255 && (img[end] != at(end) || end+1 < len(img) && img[end+1] != at(end+1)) {
			end++
		}
		in = binary.LittleEndian.AppendUint16(in, uint16(hot+p/2048))
		in = binary.LittleEndian.AppendUint16(in, uint16(p%2048))
		in = append(in, byte(end-p))
		in = append(in, img[p:end]...)
		p = end
	}
	return in
}

// TestFuzzEdits checks the input format of FuzzOpen: a base alone is its
// image, whose trees list the same entries as the original image's, and
// the edits of each hostile image of TestHostile make that image again
// (but for file contents) and fail as it does.
func TestFuzzEdits(t *testing.T) {
	bases := fuzzBases(t)
	for i, name := range fuzzBaseNames[1:5] {
		orig := readTestdata(t, name)
		img := edited(bases, []byte{byte(i + 1)})
		if len(img) != len(orig) {
			t.Fatalf("%s: base of %d bytes, image of %d", name, len(img), len(orig))
		}
		for _, names := range []NameSource{NamesPlain, NamesRockRidge, NamesJoliet} {
			want, err1 := listTree(orig, names)
			got, err2 := listTree(img, names)
			if errors.Is(err1, ErrNoTree) && errors.Is(err2, ErrNoTree) {
				continue
			}
			if err1 != nil || err2 != nil || !slices.Equal(got, want) {
				t.Errorf("%s %v: zeroed image lists %q (%v), original %q (%v)", name, names, got, err2, want, err1)
			}
		}
		t.Logf("%s: %d of %d blocks not zero after zeroing the file contents", name, len(bases[i+1].hot), len(img)/2048)
	}
	base := readTestdata(t, "small-rr.iso")
	for _, tt := range hostileCases {
		mutant := tt.mutate(t, bytes.Clone(base))
		if len(mutant) < len(base) {
			continue
		}
		in := editsOf(bases, 1, base, mutant)
		img := edited(bases, in)
		for p := range mutant {
			want := bases[1].img[p]
			if mutant[p] != base[p] {
				want = mutant[p]
			}
			if img[p] != want {
				t.Errorf("%s: byte %d is %#x, want %#x", tt.name, p, img[p], want)
				break
			}
		}
		if err := openAndWalk(img); tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s as edits: open and walk: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// listTree lists the paths, sizes and modes of the tree names of img.
func listTree(img []byte, names NameSource) ([]string, error) {
	fsys, err := OpenWith(bytes.NewReader(img), Options{Names: names, BootDir: "eltorito"})
	if err != nil {
		return nil, err
	}
	var list []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		list = append(list, p+" "+info.Mode().String()+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	return list, err
}

// FuzzOpen opens arbitrary images (edits of base images, see above) with
// a name tree, walks the whole tree, reading every file, link and boot
// image (within fuzzMaxEntries and fuzzMaxRead), and checks it. It must not
// panic, hang or allocate beyond the image's size, and every file's
// [File.Section] must keep its contract (checkSection). Seeds: each base in each
// of its trees, and the hostile images of TestHostile that are edits of at
// most fuzzMaxInput bytes. Inputs stay small and each costs at most a few
// milliseconds, so it runs usefully at the defaults:
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 60s ./isofs
func FuzzOpen(f *testing.F) {
	bases := fuzzBases(f)
	for k := range len(bases) * len(walkTrees) {
		in := []byte{byte(k)}
		if _, err := walkTree(bytes.NewReader(edited(bases, in)), fuzzTree(bases, in), 1, 0); !errors.Is(err, ErrNoTree) {
			f.Add(in)
		}
	}
	base := readTestdata(f, "small-rr.iso")
	for _, tt := range hostileCases {
		mutant := tt.mutate(f, bytes.Clone(base))
		if len(mutant) < len(base) {
			continue
		}
		if in := editsOf(bases, 1, base, mutant); len(in) <= fuzzMaxInput {
			f.Add(in)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzMaxInput {
			return // see fuzzMaxInput
		}
		errs, _ := walkTree(bytes.NewReader(edited(bases, in)), fuzzTree(bases, in), fuzzMaxEntries, fuzzMaxRead)
		if err := errors.Join(errs...); errors.Is(err, errBadSection) {
			t.Fatal(err)
		}
	})
}
