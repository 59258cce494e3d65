package isofs

import (
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// NameSource selects the directory tree, and so the names, that an [FS]
// shows. An image can carry up to three views of the same files: the
// ECMA-119 tree (short upper-case names), that tree extended by Rock Ridge
// (POSIX names, modes, times, symbolic links), and a Joliet tree (UCS-2
// names of up to 64 characters, or 103 with -joliet-long; see the package
// comment).
type NameSource int

const (
	// NamesAuto, the zero value, picks Rock Ridge when the image has it,
	// else Joliet, else plain ECMA-119 names.
	NamesAuto NameSource = iota
	// NamesRockRidge uses the ECMA-119 tree with its Rock Ridge entries.
	NamesRockRidge
	// NamesJoliet uses the Joliet supplementary volume's tree.
	NamesJoliet
	// NamesPlain uses the ECMA-119 tree and ignores any Rock Ridge entries
	// (like mount -o norock,nojoliet): names lose their version suffix and
	// a trailing dot, and keep their case.
	NamesPlain
)

// String returns "auto", "rockridge", "joliet" or "plain".
func (n NameSource) String() string {
	switch n {
	case NamesAuto:
		return "auto"
	case NamesRockRidge:
		return "rockridge"
	case NamesJoliet:
		return "joliet"
	case NamesPlain:
		return "plain"
	}
	return "NameSource(?)"
}

// Options configures [OpenWith]. The zero value is what [Open] uses.
type Options struct {
	// Names selects the directory tree; see [NameSource]. Asking for a
	// tree the image lacks makes OpenWith fail with [ErrNoTree].
	Names NameSource

	// BootDir, when not empty, adds a directory of that name to the root
	// of the file system holding the El Torito boot images as files named
	// "<n>-<platform>.img" (for example "2-efi.img"), n counting catalog
	// entries from 1. An EFI system partition image that the image hides
	// from its directory tree can then be served like any other file. The
	// name must be a single valid path element (7-Zip's "[BOOT]" works but
	// is a pattern to [fs.Glob]; "eltorito" is not); an existing root
	// entry of the same name wins.
	BootDir string

	// MaxCacheBytes bounds the memory of the decoded directories the FS
	// keeps, least recently used dropped first (and decoded again from
	// the image when next needed); the package comment says what a
	// directory costs. 0 means [DefaultMaxCacheBytes] (64 MiB); a negative
	// value means no bound. A directory that costs more than the bound on
	// its own is decoded on every use and not kept.
	MaxCacheBytes int64
}

// Volume describes the primary volume descriptor (ECMA-119 §8.4) and which
// extensions the image uses.
type Volume struct {
	ID          string    // volume identifier, trailing spaces removed
	System      string    // system identifier
	VolumeSet   string    // volume set identifier
	Publisher   string    // publisher identifier
	Preparer    string    // data preparer identifier
	Application string    // application identifier
	Created     time.Time // volume creation time; zero when unset or invalid
	Modified    time.Time // volume modification time; zero when unset or invalid
	BlockSize   int       // logical block size in bytes, normally 2048
	Blocks      uint32    // volume space size in logical blocks

	RockRidge bool // the ECMA-119 tree carries Rock Ridge (SUSP SP found)
	// Extensions lists the identifiers of the SUSP ER entries of the root
	// directory: "RRIP_1991A" (Rock Ridge 1.10), "IEEE_P1282" (1.12),
	// "IEEE_1282", or others such as AAIP. Rock Ridge written without ER
	// (RRIP 1.09) is still read.
	Extensions []string
	Joliet     bool       // a Joliet supplementary volume descriptor exists
	ElTorito   bool       // a boot record points to an El Torito catalog
	Names      NameSource // the tree the FS shows (never NamesAuto)
}

// FS is an ISO 9660 image as a read-only file system. It implements
// [fs.FS], [fs.ReadDirFS], [fs.StatFS], [fs.ReadFileFS] and [fs.ReadLinkFS].
//
// An FS is safe for concurrent use by multiple goroutines. Directories are
// decoded on first use and kept in a cache bounded by
// [Options.MaxCacheBytes]; file contents are read from the underlying
// [io.ReaderAt] on demand (small files of an [*os.File] read in image
// order through one 64 KiB read-ahead window, see the package comment),
// which therefore must allow concurrent ReadAt calls (as [os.File] and
// [bytes.Reader] do).
type FS struct {
	r     io.ReaderAt
	bs    int64 // logical block size
	limit int64 // bytes of the volume, known to be readable
	rr    bool  // decode SUSP / Rock Ridge in the tree shown
	skip  int   // SUSP LEN_SKP
	root  *node
	vol   Volume

	bootOff int64    // byte offset of the El Torito catalog, 0 if none
	bootDir *bootDir // Options.BootDir, or nil

	bootOnce sync.Once
	boot     []BootImage
	bootErr  error

	ra    readAhead // what small files are read through, if useRA
	useRA bool

	// rootDir is the root directory's listing once the cache pinned it;
	// read without a lock.
	rootDir atomic.Pointer[dirData]

	// last is where the previous lookup ended (see lastDir), or nil.
	last atomic.Pointer[lastDir]

	mu     sync.Mutex
	cache  dirCache        // decoded directories
	owners map[int64]int64 // directory offset -> offset of the directory listing it
}

// Open reads the volume descriptors of the ISO 9660 image in r and returns
// it as a file system, with names from Rock Ridge, else Joliet, else plain
// ECMA-119 (see [OpenWith] to choose). r must stay usable as long as the FS
// is used.
func Open(r io.ReaderAt) (*FS, error) { return OpenWith(r, Options{}) }

const (
	sectorSize    = 2048 // volume descriptors are always this size (ECMA-119 §6.1.2)
	firstVD       = 16
	maxVDs        = 64 // volume descriptors examined before giving up
	maxDirSize    = 64 << 20
	maxLinkFollow = 40
)

// OpenWith is [Open] with options.
func OpenWith(r io.ReaderAt, opts Options) (*FS, error) {
	f := &FS{r: r, owners: make(map[int64]int64)}
	f.cache.init(cacheBound(opts.MaxCacheBytes))
	if opts.BootDir != "" && !validElem(opts.BootDir) {
		return nil, &fs.PathError{Op: "open", Path: opts.BootDir, Err: fs.ErrInvalid}
	}
	set, err := readDescriptors(r)
	if err != nil {
		return nil, err
	}
	if err := f.setVolume(set); err != nil {
		return nil, err
	}
	proot, err := f.rootNode(set.pvd.rootRecord(), firstVD*sectorSize+pvdRootRecord)
	if err != nil {
		return nil, err
	}
	info, err := f.rootSUSP(proot)
	if err != nil {
		return nil, err
	}
	f.vol.RockRidge = info.sp
	for _, id := range info.ext {
		f.vol.Extensions = append(f.vol.Extensions, string([]byte(id)))
	}
	if err := f.chooseTree(opts.Names, set, proot, &info); err != nil {
		return nil, err
	}
	if opts.BootDir != "" {
		f.bootDir = f.newBootDir(opts.BootDir)
	}
	return f, nil
}

// cacheBound turns [Options.MaxCacheBytes] into the cache's bound, -1
// meaning none.
func cacheBound(opt int64) int64 {
	switch {
	case opt == 0:
		return DefaultMaxCacheBytes
	case opt < 0:
		return -1
	}
	return opt
}

// validElem reports whether name is a single valid path element.
func validElem(name string) bool {
	return fs.ValidPath(name) && name != "." && !containsSlash(name)
}

// descriptorSet is what the volume descriptor set (ECMA-119 §6.7.1)
// holds that isofs uses.
type descriptorSet struct {
	pvd     volumeDescriptor // the primary volume descriptor
	svd     volumeDescriptor // the first Joliet supplementary one, or ""
	catalog uint32           // El Torito boot catalog block, 0 if none
}

// readDescriptors reads the volume descriptors from sector 16 up to the
// set terminator.
func readDescriptors(r io.ReaderAt) (descriptorSet, error) {
	var set descriptorSet
	buf := make([]byte, sectorSize)
	for i := range maxVDs {
		off := int64(firstVD+i) * sectorSize
		if _, err := r.ReadAt(buf, off); err != nil {
			if i == 0 {
				return set, ErrNotISO
			}
			return set, truncated(off, "volume descriptor set")
		}
		vd := volumeDescriptor(buf)
		if vd.standardID() != "CD001" {
			if i == 0 {
				return set, ErrNotISO
			}
			return set, corrupt(off, "volume descriptor identifier")
		}
		switch typ := vd.typ(); {
		case typ == vdTerminator:
			if set.pvd == "" {
				return set, ErrNotISO
			}
			return set, nil
		case typ == vdBoot && vd.elTorito():
			set.catalog = vd.catalogBlock()
		case typ == vdPrimary && set.pvd == "":
			set.pvd = volumeDescriptor(string(buf))
		case typ == vdSupplementary && set.svd == "" && vd.joliet():
			set.svd = volumeDescriptor(string(buf))
		}
	}
	return set, corrupt(int64(firstVD+maxVDs-1)*sectorSize, "volume descriptor set without terminator")
}

// setVolume checks the primary volume descriptor's block size and volume
// space size against r and fills in f.vol.
func (f *FS) setVolume(set descriptorSet) error {
	pvd := set.pvd
	f.bs = int64(pvd.blockSize())
	if f.bs != 512 && f.bs != 1024 && f.bs != 2048 {
		return corrupt(firstVD*sectorSize+pvdBlockSize, "logical block size")
	}
	blocks := pvd.spaceSize()
	f.limit = int64(blocks) * f.bs
	if f.limit < (firstVD+1)*sectorSize {
		return corrupt(firstVD*sectorSize+pvdSpaceSize, "volume space size")
	}
	var probe [1]byte
	if _, err := f.r.ReadAt(probe[:], f.limit-1); err != nil {
		return truncated(f.limit-1, "volume (shorter than its volume space size)")
	}
	f.ra.r, f.ra.limit, f.useRA = f.r, f.limit, costlyReads(f.r)
	f.bootOff = int64(set.catalog) * f.bs
	f.vol = Volume{
		System:      pvd.systemID(),
		ID:          pvd.volumeID(),
		VolumeSet:   pvd.volumeSetID(),
		Publisher:   pvd.publisherID(),
		Preparer:    pvd.preparerID(),
		Application: pvd.applicationID(),
		Created:     pvd.created(),
		Modified:    pvd.modified(),
		BlockSize:   int(f.bs),
		Blocks:      blocks,
		Joliet:      set.svd != "",
		ElTorito:    f.bootOff != 0,
	}
	return nil
}

// chooseTree picks the tree names come from (names, or by [NamesAuto]'s
// rule) and sets the FS's root to it. proot is the primary volume's root,
// info what its SUSP entries said.
func (f *FS) chooseTree(names NameSource, set descriptorSet, proot *node, info *rrInfo) error {
	if names == NamesAuto {
		switch {
		case f.vol.RockRidge:
			names = NamesRockRidge
		case f.vol.Joliet:
			names = NamesJoliet
		default:
			names = NamesPlain
		}
	}
	f.vol.Names = names
	switch names {
	case NamesRockRidge:
		if !f.vol.RockRidge {
			return ErrNoTree
		}
		f.rr, f.skip = true, info.skip
		proot.applyRR(info)
		f.root = proot
	case NamesJoliet:
		if set.svd == "" {
			return ErrNoTree
		}
		// The Joliet descriptor's position in the set is not recorded;
		// its offset only matters for error messages.
		root, err := f.rootNode(set.svd.rootRecord(), 0)
		if err != nil {
			return err
		}
		f.root = root
	case NamesPlain:
		f.root = proot
	default:
		return fs.ErrInvalid
	}
	return nil
}

// volumeDescriptor is a volume descriptor (ECMA-119 §8) viewed in place:
// sectorSize bytes. The accessors of the primary and supplementary
// descriptor (§8.4, §8.5) and of the boot record (§8.2, El Torito 1.0
// §2.0) read the fields at their offsets.
type volumeDescriptor string

// Volume descriptor types, ECMA-119 §8.1.1.
const (
	vdBoot          = 0
	vdPrimary       = 1
	vdSupplementary = 2
	vdTerminator    = 255
)

// Offsets of primary volume descriptor fields that errors name.
const (
	pvdSpaceSize  = 80
	pvdBlockSize  = 128
	pvdRootRecord = 156
)

func (v volumeDescriptor) typ() byte             { return v[0] }
func (v volumeDescriptor) standardID() string    { return string(v[1:6]) }
func (v volumeDescriptor) systemID() string      { return trimID(string(v[8:40])) }
func (v volumeDescriptor) volumeID() string      { return trimID(string(v[40:72])) }
func (v volumeDescriptor) spaceSize() uint32     { return le32(string(v), pvdSpaceSize) }
func (v volumeDescriptor) escapes() string       { return string(v[88:120]) }
func (v volumeDescriptor) blockSize() uint16     { return le16(string(v), pvdBlockSize) }
func (v volumeDescriptor) rootRecord() string    { return string(v[pvdRootRecord:190]) }
func (v volumeDescriptor) volumeSetID() string   { return trimID(string(v[190:318])) }
func (v volumeDescriptor) publisherID() string   { return trimID(string(v[318:446])) }
func (v volumeDescriptor) preparerID() string    { return trimID(string(v[446:574])) }
func (v volumeDescriptor) applicationID() string { return trimID(string(v[574:702])) }
func (v volumeDescriptor) created() time.Time    { return longTime(string(v[813:830])) }
func (v volumeDescriptor) modified() time.Time   { return longTime(string(v[830:847])) }

// joliet reports whether a supplementary descriptor's escape sequences
// name a UCS-2 level (Joliet §4.2: "%/@", "%/C" or "%/E").
func (v volumeDescriptor) joliet() bool {
	e := v.escapes()
	return e[0] == '%' && e[1] == '/' && (e[2] == '@' || e[2] == 'C' || e[2] == 'E')
}

// elTorito reports whether a boot record's boot system identifier is El
// Torito's (El Torito 1.0 §2.0: "EL TORITO SPECIFICATION", padded with
// zeros).
func (v volumeDescriptor) elTorito() bool { return string(v[7:30]) == "EL TORITO SPECIFICATION" }

// catalogBlock is the first block of the El Torito boot catalog, from an
// El Torito boot record (El Torito 1.0 §2.0, offset 0x47).
func (v volumeDescriptor) catalogBlock() uint32 { return le32(string(v), 71) }

// Volume returns the primary volume descriptor's fields.
func (f *FS) Volume() Volume { return f.vol }

func trimID(s string) string {
	i := len(s)
	for i > 0 && (s[i-1] == ' ' || s[i-1] == 0) {
		i--
	}
	return s[:i]
}

func containsSlash(s string) bool {
	for i := range len(s) {
		if s[i] == '/' {
			return true
		}
	}
	return false
}
