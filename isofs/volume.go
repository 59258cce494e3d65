package isofs

import (
	"io"
	"io/fs"
	"sync"
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
// [Options.MaxCacheBytes]; file contents are never cached but read from
// the underlying [io.ReaderAt] on demand, which therefore must allow
// concurrent ReadAt calls (as [os.File] and [bytes.Reader] do).
type FS struct {
	r     io.ReaderAt
	bs    int64 // logical block size
	limit int64 // bytes of the volume, known to be readable
	rr    bool  // decode SUSP / Rock Ridge in the tree shown
	skip  int   // SUSP LEN_SKP
	root  *node
	vol   Volume

	bootOff int64 // byte offset of the El Torito catalog, 0 if none
	bootDir string

	bootOnce sync.Once
	boot     []BootImage
	bootErr  error

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
	switch {
	case opts.MaxCacheBytes == 0:
		f.cache.init(DefaultMaxCacheBytes)
	case opts.MaxCacheBytes < 0:
		f.cache.init(-1)
	default:
		f.cache.init(opts.MaxCacheBytes)
	}
	if opts.BootDir != "" {
		if !fs.ValidPath(opts.BootDir) || opts.BootDir == "." || containsSlash(opts.BootDir) {
			return nil, &fs.PathError{Op: "open", Path: opts.BootDir, Err: fs.ErrInvalid}
		}
		f.bootDir = opts.BootDir
	}
	var pvd, svd []byte
	buf := make([]byte, sectorSize)
	for i := range maxVDs {
		off := int64(firstVD+i) * sectorSize
		if _, err := r.ReadAt(buf, off); err != nil {
			if i == 0 {
				return nil, ErrNotISO
			}
			return nil, truncated(off, "volume descriptor set")
		}
		if string(buf[1:6]) != "CD001" {
			if i == 0 {
				return nil, ErrNotISO
			}
			return nil, corrupt(off, "volume descriptor identifier")
		}
		typ := buf[0]
		if typ == 255 {
			break
		}
		switch {
		case typ == 0 && string(buf[7:30]) == "EL TORITO SPECIFICATION":
			f.bootOff = int64(le32(string(buf), 71)) // in blocks; scaled below
		case typ == 1 && pvd == nil:
			pvd = append([]byte(nil), buf...)
		case typ == 2 && svd == nil && buf[88] == '%' && buf[89] == '/' &&
			(buf[90] == '@' || buf[90] == 'C' || buf[90] == 'E'):
			svd = append([]byte(nil), buf...)
		}
		if i == maxVDs-1 {
			return nil, corrupt(off, "volume descriptor set without terminator")
		}
	}
	if pvd == nil {
		return nil, ErrNotISO
	}
	p := string(pvd)
	f.bs = int64(le16(p, 128))
	if f.bs != 512 && f.bs != 1024 && f.bs != 2048 {
		return nil, corrupt(firstVD*sectorSize+128, "logical block size")
	}
	blocks := le32(p, 80)
	f.limit = int64(blocks) * f.bs
	if f.limit < (firstVD+1)*sectorSize {
		return nil, corrupt(firstVD*sectorSize+80, "volume space size")
	}
	var probe [1]byte
	if _, err := r.ReadAt(probe[:], f.limit-1); err != nil {
		return nil, truncated(f.limit-1, "volume (shorter than its volume space size)")
	}
	f.bootOff *= f.bs
	f.vol = Volume{
		System:      trimID(p[8:40]),
		ID:          trimID(p[40:72]),
		VolumeSet:   trimID(p[190:318]),
		Publisher:   trimID(p[318:446]),
		Preparer:    trimID(p[446:574]),
		Application: trimID(p[574:702]),
		Created:     longTime(p[813:830]),
		Modified:    longTime(p[830:847]),
		BlockSize:   int(f.bs),
		Blocks:      blocks,
		Joliet:      svd != nil,
		ElTorito:    f.bootOff != 0,
	}

	// The root directory's "." record says whether SUSP is in use (SUSP
	// §5.3: SP in the first record of the root directory).
	proot, err := f.rootNode(p[156:190], firstVD*sectorSize+156)
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

	names := opts.Names
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
			return nil, ErrNoTree
		}
		f.rr, f.skip = true, info.skip
		proot.applyRR(&info)
		f.root = proot
	case NamesJoliet:
		if svd == nil {
			return nil, ErrNoTree
		}
		// The Joliet descriptor's position in the set is not recorded;
		// its offset only matters for error messages.
		f.root, err = f.rootNode(string(svd[156:190]), 0)
		if err != nil {
			return nil, err
		}
	case NamesPlain:
		f.root = proot
	default:
		return nil, fs.ErrInvalid
	}
	return f, nil
}

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
