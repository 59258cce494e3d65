package isofs

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Images are mostly zeros, and Go's fuzzer slows to a crawl on inputs of
// more than a few kilobytes, so FuzzOpen takes an image packed as a list of
// blocks: records of a 16-bit block number, a 16-bit length n (at most
// 2048) and n bytes, which unpack writes at that 2048-byte block of an
// image of zeros. The image ends after the last block or at the volume
// size its primary descriptor gives, whichever is later (at most 8 MiB).
func pack(img []byte) []byte {
	var out []byte
	for blk := 0; blk*2048 < len(img); blk++ {
		b := img[blk*2048 : min(len(img), (blk+1)*2048)]
		b = bytes.TrimRight(b, "\x00")
		if len(b) == 0 {
			continue
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(blk))
		out = binary.LittleEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

func unpack(in []byte) []byte {
	const maxImage = 8 << 20
	var img []byte
	for len(in) >= 4 {
		blk, n := int(binary.LittleEndian.Uint16(in)), int(binary.LittleEndian.Uint16(in[2:]))
		in = in[4:]
		n = min(n, len(in), 2048)
		end := blk*2048 + n
		if end > len(img) {
			img = append(img, make([]byte, (blk+1)*2048-len(img))...)
		}
		copy(img[blk*2048:], in[:n])
		in = in[n:]
	}
	if len(img) >= 17*2048 && string(img[16*2048+1:16*2048+6]) == "CD001" {
		vol := int(binary.LittleEndian.Uint32(img[16*2048+80:])) * 2048
		if vol > len(img) && vol <= maxImage {
			img = append(img, make([]byte, vol-len(img))...)
		}
	}
	return img
}

func TestPack(t *testing.T) {
	for _, name := range []string{"small-rr.iso", "small-plain.iso"} {
		img := readTestdata(t, name)
		p := pack(img)
		vol := int(binary.LittleEndian.Uint32(img[16*2048+80:])) * 2048
		if got := unpack(p); len(got) < vol || !bytes.Equal(got, img[:len(got)]) {
			t.Errorf("unpack(pack(%s)) differs: %d bytes from %d (volume %d)", name, len(got), len(img), vol)
		}
		t.Logf("%s: %d bytes packed to %d", name, len(img), len(p))
	}
}

// FuzzOpen opens arbitrary (packed) images with each name tree and walks
// the whole tree, reading every file, link and boot image. It must not
// panic, hang or allocate beyond the image's size. Seeds: the committed
// images and, when xorriso and genisoimage are installed, small images of
// the corpus. New inputs cover new code often, and Go minimizes each for
// up to a minute by default; run it as
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 60s -fuzzminimizetime 100x ./isofs
func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.iso")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pack(b))
	}
	if _, err := exec.LookPath("xorriso"); err == nil {
		if _, err := exec.LookPath("genisoimage"); err == nil {
			for _, kind := range []string{"plain-l1", "joliet", "rr-geniso", "rr-xorriso"} {
				b, err := os.ReadFile(makeImage(f, kind))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(pack(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, packed []byte) {
		openAndWalk(unpack(packed))
	})
}
