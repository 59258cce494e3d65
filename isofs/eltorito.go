package isofs

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Platform is an El Torito platform ID (El Torito 1.0 §2.1, and 0xEF for
// UEFI from UEFI 2.x §13.3.2.1).
type Platform uint8

// Platform IDs.
const (
	PlatformBIOS    Platform = 0x00 // 80x86 PC BIOS
	PlatformPowerPC Platform = 0x01
	PlatformMac     Platform = 0x02
	PlatformEFI     Platform = 0xEF
)

// String returns a short lower-case name: "bios", "efi", "ppc", "mac" or
// "platform-XX".
func (p Platform) String() string {
	switch p {
	case PlatformBIOS:
		return "bios"
	case PlatformPowerPC:
		return "ppc"
	case PlatformMac:
		return "mac"
	case PlatformEFI:
		return "efi"
	}
	return fmt.Sprintf("platform-%02x", uint8(p))
}

// Emulation is the boot media type of a catalog entry (El Torito 1.0 §2.2).
type Emulation uint8

// Emulation types.
const (
	NoEmulation  Emulation = 0
	Floppy12M    Emulation = 1 // 1.2 MB diskette
	Floppy144M   Emulation = 2 // 1.44 MB diskette
	Floppy288M   Emulation = 3 // 2.88 MB diskette
	HardDiskEmul Emulation = 4
)

// BootImage is one entry of an El Torito boot catalog.
type BootImage struct {
	Platform    Platform
	Bootable    bool      // boot indicator 0x88
	Emulation   Emulation // media type, low 4 bits
	LoadSegment uint16    // segment to load the image at (BIOS), 0 meaning 0x7C0
	SystemType  uint8     // partition type of hard disk emulation
	SectorCount uint16    // virtual 512-byte sectors the BIOS loads
	LBA         uint32    // first logical block of the image

	// Size is the image's length in bytes as far as the catalog and the
	// image itself tell: the diskette size for floppy emulation, the end of
	// the last MBR partition for hard disk emulation, the FAT volume size
	// for a no-emulation image that starts with a FAT boot sector (an EFI
	// system partition), else SectorCount*512. For a BIOS no-emulation
	// loader such as isolinux.bin that is only the part the BIOS loads;
	// the whole file is in the directory tree.
	Size int64

	// Name is the file name of the image in [Options.BootDir].
	Name string
}

const maxBootEntries = 64

// BootImages returns the entries of the El Torito boot catalog (El Torito
// 1.0 §2), the default entry first; none when the image has no boot record.
func (f *FS) BootImages() ([]BootImage, error) {
	f.bootOnce.Do(func() { f.boot, f.bootErr = f.parseCatalog() })
	return slices.Clone(f.boot), f.bootErr
}

// OpenBootImage opens the i-th entry of [FS.BootImages] (from 0) as a
// file of [BootImage.Size] bytes.
func (f *FS) OpenBootImage(i int) (*File, error) {
	imgs, err := f.BootImages()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(imgs) {
		return nil, ErrNoBootImage
	}
	return f.openNode(f.bootNode(imgs[i]))
}

func (f *FS) bootNode(b BootImage) *node {
	return &node{name: b.Name, mode: 0o444, size: b.Size, off: int64(b.LBA) * f.bs, rec: f.root.rec, tf: f.root.tf}
}

func (f *FS) parseCatalog() ([]BootImage, error) {
	if f.bootOff == 0 {
		return nil, nil
	}
	if f.bootOff < (firstVD+1)*sectorSize || f.bootOff >= f.limit {
		return nil, corrupt(f.bootOff, "El Torito catalog location")
	}
	buf := make([]byte, min(4*sectorSize, f.limit-f.bootOff))
	n, err := f.r.ReadAt(buf, f.bootOff)
	if n < 64 {
		return nil, truncated(f.bootOff, fmt.Sprintf("El Torito catalog (%v)", err))
	}
	c := string(buf[:n-n%32])
	// Validation entry (§2.1): header 1, key 55 AA, 16-bit words sum to 0.
	if c[0] != 1 || c[30] != 0x55 || c[31] != 0xAA {
		return nil, corrupt(f.bootOff, "El Torito validation entry")
	}
	var sum uint16
	for i := 0; i < 32; i += 2 {
		sum += le16(c, i)
	}
	if sum != 0 {
		return nil, corrupt(f.bootOff, "El Torito validation entry checksum")
	}
	var imgs []BootImage
	add := func(e string, p Platform) {
		b := BootImage{
			Platform:    p,
			Bootable:    e[0] == 0x88,
			Emulation:   Emulation(e[1] & 0x0F),
			LoadSegment: le16(e, 2),
			SystemType:  e[4],
			SectorCount: le16(e, 6),
			LBA:         le32(e, 8),
		}
		b.Name = fmt.Sprintf("%d-%s.img", len(imgs)+1, b.Platform)
		b.Size = f.bootSize(b)
		imgs = append(imgs, b)
	}
	add(c[32:64], Platform(c[1]))
	for pos := 64; pos+32 <= len(c) && len(imgs) < maxBootEntries; {
		h := c[pos : pos+32]
		if h[0] != 0x90 && h[0] != 0x91 {
			break
		}
		last := h[0] == 0x91
		p, count := Platform(h[1]), int(le16(h, 2))
		pos += 32
		for k := 0; k < count && pos+32 <= len(c) && len(imgs) < maxBootEntries; k++ {
			e := c[pos : pos+32]
			pos += 32
			add(e, p)
			for pos+32 <= len(c) && c[pos] == 0x44 { // extension entries (§2.5)
				pos += 32
			}
		}
		if last {
			break
		}
	}
	return imgs, nil
}

// bootSize works out how long a boot image is (see [BootImage.Size]).
func (f *FS) bootSize(b BootImage) int64 {
	off := int64(b.LBA) * f.bs
	size := int64(b.SectorCount) * 512
	switch b.Emulation {
	case Floppy12M:
		size = 1200 << 10
	case Floppy144M:
		size = 1440 << 10
	case Floppy288M:
		size = 2880 << 10
	case HardDiskEmul, NoEmulation:
		var s [512]byte
		if off <= 0 {
			break
		}
		if _, err := f.r.ReadAt(s[:], off); err != nil || s[510] != 0x55 || s[511] != 0xAA {
			break
		}
		bs := string(s[:])
		if b.Emulation == HardDiskEmul {
			var end int64
			for p := 446; p < 510; p += 16 {
				end = max(end, (int64(le32(bs, p+8))+int64(le32(bs, p+12)))*512)
			}
			size = max(size, end)
			break
		}
		// A FAT boot sector (Microsoft FAT specification, BPB): bytes per
		// sector at 11, total sectors at 19 (16 bits) or 32 (32 bits).
		bps := int64(le16(bs, 11))
		if (s[0] != 0xEB && s[0] != 0xE9) || bps < 512 || bps > 4096 || bps&(bps-1) != 0 {
			break
		}
		total := int64(le16(bs, 19))
		if total == 0 {
			total = int64(le32(bs, 32))
		}
		size = max(size, total*bps)
	}
	// An image may lie past the volume, in a partition appended to it
	// (xorriso -append_partition); it must still lie inside r.
	if off+size > f.limit {
		var probe [1]byte
		if _, err := f.r.ReadAt(probe[:], off+size-1); err != nil {
			size = max(0, f.limit-off)
		}
	}
	return size
}

// Synthetic boot directory (Options.BootDir).

func (f *FS) bootDirNode() *node {
	return &node{name: f.bootDir, mode: fs.ModeDir | 0o555, off: -1, rec: f.root.rec, tf: f.root.tf}
}

// bootLookup resolves names inside Options.BootDir; ok is false when name
// is not there (or a real root entry has the same name).
func (f *FS) bootLookup(name string) (n *node, ok bool, err error) {
	first, rest, _ := strings.Cut(name, "/")
	if first != f.bootDir || !f.vol.ElTorito {
		return nil, false, nil
	}
	root, err := f.loadDir(f.root)
	if err != nil || root.find(f.bootDir) != nil {
		return nil, false, nil
	}
	if rest == "" {
		return f.bootDirNode(), true, nil
	}
	d := f.bootData()
	if c := d.find(rest); c != nil {
		return c, true, nil
	}
	return nil, true, fs.ErrNotExist
}

func (f *FS) bootData() *dirData {
	imgs, _ := f.BootImages()
	d := &dirData{}
	for _, b := range imgs {
		d.entries = append(d.entries, *f.bootNode(b))
	}
	slices.SortFunc(d.entries, func(a, b node) int { return strings.Compare(a.name, b.name) })
	return d
}

// withBoot returns d, the root directory, with the boot directory added.
func (f *FS) withBoot(d *dirData) *dirData {
	if d.find(f.bootDir) != nil {
		return d
	}
	e := make([]node, 0, len(d.entries)+1)
	e = append(e, d.entries...)
	e = append(e, *f.bootDirNode())
	slices.SortFunc(e, func(a, b node) int { return strings.Compare(a.name, b.name) })
	return &dirData{entries: e, bad: d.bad, lost: d.lost}
}
