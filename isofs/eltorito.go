package isofs

import (
	"fmt"
	"io/fs"
	"iter"
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
	c, err := f.readCatalog()
	if err != nil {
		return nil, err
	}
	var imgs []BootImage
	for e, p := range c.bootEntries() {
		b := BootImage{
			Platform:    p,
			Bootable:    e.bootIndicator() == bootable,
			Emulation:   e.media(),
			LoadSegment: e.loadSegment(),
			SystemType:  e.systemType(),
			SectorCount: e.sectorCount(),
			LBA:         e.loadBlock(),
		}
		b.Name = fmt.Sprintf("%d-%s.img", len(imgs)+1, b.Platform)
		b.Size = f.bootSize(b)
		imgs = append(imgs, b)
	}
	return imgs, nil
}

// readCatalog reads the boot catalog (at most four sectors, as many
// entries as [maxBootEntries] and their headers take) and checks its
// validation entry.
func (f *FS) readCatalog() (catalog, error) {
	if f.bootOff < (firstVD+1)*sectorSize || f.bootOff >= f.limit {
		return "", corrupt(f.bootOff, "El Torito catalog location")
	}
	buf := make([]byte, min(4*sectorSize, f.limit-f.bootOff))
	n, err := f.r.ReadAt(buf, f.bootOff)
	if n < 2*catalogEntryLen {
		return "", truncated(f.bootOff, fmt.Sprintf("El Torito catalog (%v)", err))
	}
	c := catalog(buf[:n-n%catalogEntryLen])
	v := c.entry(0)
	if v.headerID() != validationHeader || !v.validKey() {
		return "", corrupt(f.bootOff, "El Torito validation entry")
	}
	if !v.validChecksum() {
		return "", corrupt(f.bootOff, "El Torito validation entry checksum")
	}
	return c, nil
}

// catalog is an El Torito boot catalog (El Torito 1.0 §2), a whole number
// of entries.
type catalog string

func (c catalog) entries() int { return len(c) / catalogEntryLen }

func (c catalog) entry(i int) catalogEntry {
	return catalogEntry(c[i*catalogEntryLen : (i+1)*catalogEntryLen])
}

// bootEntries yields the catalog's boot entries with the platform each is
// for: the initial/default entry (§2.2) with the validation entry's
// platform, then the entries of each section (§2.3, §2.4) with their
// header's, skipping extension entries (§2.5), at most maxBootEntries in
// all.
func (c catalog) bootEntries() iter.Seq2[catalogEntry, Platform] {
	return func(yield func(catalogEntry, Platform) bool) {
		if !yield(c.entry(1), c.entry(0).platform()) {
			return
		}
		count := 1
		for i := 2; i < c.entries() && count < maxBootEntries; {
			h := c.entry(i)
			i++
			if h.headerID() != sectionHeader && h.headerID() != lastSectionHeader {
				return
			}
			for k := 0; k < h.sectionEntries() && i < c.entries() && count < maxBootEntries; k++ {
				e := c.entry(i)
				i++
				if !yield(e, h.platform()) {
					return
				}
				count++
				for i < c.entries() && c.entry(i).headerID() == extensionEntry {
					i++
				}
			}
			if h.headerID() == lastSectionHeader {
				return
			}
		}
	}
}

// catalogEntry is one 32-byte entry of a boot catalog viewed in place. Its
// first byte says what it is; the accessors of each kind read the fields
// at their offsets.
type catalogEntry string

const catalogEntryLen = 32

// Header IDs and boot indicators (the first byte of an entry).
const (
	validationHeader  = 0x01 // validation entry, §2.1
	sectionHeader     = 0x90 // section header, more follow, §2.3
	lastSectionHeader = 0x91 // the last section header
	extensionEntry    = 0x44 // section entry extension, §2.5
	bootable          = 0x88 // boot indicator of a bootable entry, §2.2
)

func (e catalogEntry) headerID() byte { return e[0] }

// platform is the platform ID of a validation entry or section header.
func (e catalogEntry) platform() Platform { return Platform(e[1]) }

// validKey reports whether a validation entry ends in the key 55 AA.
func (e catalogEntry) validKey() bool { return e[30] == 0x55 && e[31] == 0xAA }

// validChecksum reports whether a validation entry's 16-bit words sum to 0.
func (e catalogEntry) validChecksum() bool {
	var sum uint16
	for i := 0; i < catalogEntryLen; i += 2 {
		sum += le16(string(e), i)
	}
	return sum == 0
}

// sectionEntries is the number of entries a section header announces.
func (e catalogEntry) sectionEntries() int { return int(le16(string(e), 2)) }

// The fields of a default or section entry (§2.2, §2.4).
func (e catalogEntry) bootIndicator() byte { return e[0] }
func (e catalogEntry) media() Emulation    { return Emulation(e[1] & 0x0F) }
func (e catalogEntry) loadSegment() uint16 { return le16(string(e), 2) }
func (e catalogEntry) systemType() uint8   { return e[4] }
func (e catalogEntry) sectorCount() uint16 { return le16(string(e), 6) }
func (e catalogEntry) loadBlock() uint32   { return le32(string(e), 8) }

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

// bootDir is the directory [Options.BootDir] adds to the root of the
// tree, holding the boot images. OpenWith builds it once; the FS consults
// it before its tree (lookup, dirFor), and the tree knows nothing of it.
// It is never changed after it is built.
type bootDir struct {
	node   node     // the directory itself; off -1 marks it
	images *dirData // its entries, the boot images, by name
	root   *dirData // the root directory with the boot directory added
}

// newBootDir builds the boot directory called name, or returns nil when
// the image has no El Torito boot record, when its root directory cannot
// be read, or when a root entry has that name (the entry wins).
func (f *FS) newBootDir(name string) *bootDir {
	if !f.vol.ElTorito {
		return nil
	}
	root, err := f.loadDir(f.root)
	if err != nil || root.find(name) != nil {
		return nil
	}
	b := &bootDir{node: node{name: name, mode: fs.ModeDir | 0o555, off: -1, rec: f.root.rec, tf: f.root.tf}}
	imgs, _ := f.BootImages() // a damaged catalog leaves the directory empty; Check reports it
	b.images = &dirData{entries: make([]node, 0, len(imgs))}
	for _, img := range imgs {
		b.images.entries = append(b.images.entries, *f.bootNode(img))
	}
	slices.SortFunc(b.images.entries, byName)
	e := make([]node, 0, len(root.entries)+1)
	e = append(e, root.entries...)
	e = append(e, b.node)
	slices.SortFunc(e, byName)
	b.root = &dirData{entries: e, bad: root.bad, lost: root.lost}
	return b
}

func byName(a, b node) int { return strings.Compare(a.name, b.name) }

// lookup finds name in the boot directory; ok is false when name is not
// in it, and then the tree is asked. b may be nil.
func (b *bootDir) lookup(name string) (n *node, ok bool, err error) {
	if b == nil {
		return nil, false, nil
	}
	first, rest, _ := strings.Cut(name, "/")
	if first != b.node.name {
		return nil, false, nil
	}
	if rest == "" {
		return &b.node, true, nil
	}
	if c := b.images.find(rest); c != nil {
		return c, true, nil
	}
	return nil, true, fs.ErrNotExist
}

// dir returns the listing of n when the boot directory supplies it: for
// the boot directory itself, and for root (the root directory, to which
// it adds itself); else nil, and the tree is asked. b may be nil.
func (b *bootDir) dir(n, root *node) *dirData {
	switch {
	case b == nil:
		return nil
	case n.off == -1:
		return b.images
	case n == root:
		return b.root
	}
	return nil
}
