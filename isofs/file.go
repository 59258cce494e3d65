package isofs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sync"
	"sync/atomic"
)

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// named returns n, or a copy of it called by the last element of name when
// n was reached through a symbolic link (so Stat("link").Name() is "link",
// as with [os.Stat]).
func named(n *node, name string) *node {
	// The usual case, a name that ends in "/"+n.name, without path.Base.
	if k := len(name) - len(n.name); k == 0 && name == n.name || k > 0 && name[k-1] == '/' && name[k:] == n.name {
		return n
	}
	base := path.Base(name)
	if name == "." || n.name == base {
		return n
	}
	c := *n
	c.name = base
	return &c
}

// Open opens the named file, following symbolic links. A regular file is
// returned as a [*File]; a directory as an [fs.ReadDirFile].
func (f *FS) Open(name string) (fs.File, error) {
	n, parent, err := f.lookup(name, true)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if n.mode.IsDir() {
		d, err := f.dirFor(n, parent)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		return &dirFile{n: named(n, name), d: d}, nil
	}
	file, err := f.openNode(named(n, name))
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return file, nil
}

// lookup finds the node of name: in the boot directory when name is in
// it, else in the tree (resolve). parent is the byte offset of the
// directory that lists it, for dirFor.
func (f *FS) lookup(name string, follow bool) (n *node, parent int64, err error) {
	if n, ok, err := f.bootDir.lookup(name); ok {
		return n, f.root.off, err
	}
	return f.resolve(name, follow)
}

// dirFor returns the listing of the directory n, which lookup found in
// the directory at byte offset parent: the boot directory's when it
// supplies it, else the tree's.
func (f *FS) dirFor(n *node, parent int64) (*dirData, error) {
	if d := f.bootDir.dir(n, f.root); d != nil {
		return d, nil
	}
	return f.dirOf(n, parent)
}

func (f *FS) openNode(n *node) (*File, error) {
	if n.flags&(nodeInterleaved|nodeZisofsOther) != 0 {
		return nil, ErrUnsupported
	}
	size := n.size
	if !n.mode.IsRegular() {
		size = 0
	}
	if n.flags&nodeZisofs != 0 {
		return f.openZisofs(n)
	}
	file := &File{n: n}
	switch {
	case n.ext != nil:
		file.src = &multiExtent{r: f.r, ext: *n.ext}
	case size <= smallFile && f.useRA:
		file.src = &f.ra
	default:
		file.src = f.r
	}
	return file, nil
}

// openZisofs opens a zisofs-compressed file: its recorded extents are the
// compressed data, its size the uncompressed one.
func (f *FS) openZisofs(n *node) (*File, error) {
	ext := *n.ext
	last := ext[len(ext)-1]
	stored := last.pos + last.size
	var data io.ReaderAt = io.NewSectionReader(f.r, ext[0].off, stored)
	if len(ext) > 1 {
		data = &multiExtent{r: f.r, ext: ext}
	}
	z, err := openZisofs(data, ext[0].off, stored, n.size)
	if err != nil {
		return nil, err
	}
	return &File{n: n, src: z}, nil
}

// Stat returns the [fs.FileInfo] of the named file, following symbolic
// links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, _, err := f.lookup(name, true)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return named(n, name), nil
}

// Lstat returns the [fs.FileInfo] of the named file without following a
// symbolic link in its last element.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	n, _, err := f.lookup(name, false)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return n, nil
}

// ReadLink returns the target of the named symbolic link as recorded by
// Rock Ridge SL entries (RRIP §4.1.3).
func (f *FS) ReadLink(name string) (string, error) {
	n, _, err := f.lookup(name, false)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", pathErr("readlink", name, fs.ErrInvalid)
	}
	return n.link, nil
}

// LinksInRoot reports true: every method resolves symbolic links inside
// the image, as in a chroot (an absolute target starts at the image's
// root, ".." stops there), so no name leads out of it. A server that
// confines links to the served root (the tftp package's RootedLinksFS)
// can then open names as they are instead of walking each prefix.
func (f *FS) LinksInRoot() bool { return true }

// ReadDir returns the entries of the named directory sorted by name. The
// entries' Info methods do not fail or do I/O.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, parent, err := f.lookup(name, true)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	if !n.mode.IsDir() {
		return nil, pathErr("readdir", name, errNotDir)
	}
	d, err := f.dirFor(n, parent)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	list := make([]fs.DirEntry, len(d.entries))
	for i := range d.entries {
		list[i] = &d.entries[i]
	}
	return list, nil
}

var errNotDir = errors.New("not a directory")

// ReadFile returns the contents of the named file, read with one ReadAt
// per extent into a buffer of exactly the file's size (which lies inside
// the volume, so a hostile image cannot make it large beyond the image;
// for a zisofs file, the uncompressed size, checked against the file's
// block table when it is opened, see the package comment).
func (f *FS) ReadFile(name string) ([]byte, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, pathErr("readfile", name, errors.Unwrap(err))
	}
	defer file.Close()
	ff, ok := file.(*File)
	if !ok {
		return nil, pathErr("readfile", name, errIsDir)
	}
	b := make([]byte, ff.Size())
	// io.ReaderAt allows io.EOF with a full read.
	if n, err := ff.readAt(b, 0); err != nil && n < len(b) {
		return nil, pathErr("readfile", name, truncatedErr(err))
	}
	return b, nil
}

var errIsDir = errors.New("is a directory")

func truncatedErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// File is an open regular file (or special file, read as empty) of an
// [FS]. Its contents are read from the image on demand, never buffered
// whole.
//
// ReadAt, Stat and Size may be called concurrently, from any number of
// goroutines, also with Read and Seek. Read, Seek and WriteTo share the file
// offset and, like those of [os.File], are not meant for concurrent use.
type File struct {
	// n is the file's node. src holds its data: at n.off in src for a
	// file of one extent, from offset 0 for one of several extents
	// (n.ext, a *multiExtent) or a zisofs-compressed one (a *zisofsFile).
	n   *node
	src io.ReaderAt
	// pos is the file offset, or -1 once the file is closed. (An open
	// file costs 32 bytes: a walk opens one per file.)
	pos atomic.Int64
}

var (
	_ io.ReaderAt   = (*File)(nil)
	_ io.ReadSeeker = (*File)(nil)
	_ io.WriterTo   = (*File)(nil)
)

// Stat returns the file's [fs.FileInfo].
func (f *File) Stat() (fs.FileInfo, error) { return f.n, nil }

// Size returns the file's size in bytes.
func (f *File) Size() int64 {
	if !f.n.mode.IsRegular() {
		return 0
	}
	return f.n.size
}

// Section returns the file's data as a section of the image, the
// [io.ReaderAt] given to [Open], when the data is one contiguous run of
// it: sr.Outer() returns the image, the run's byte offset in it and its
// length, the file's size. ok is false for a file stored in several
// extents (even adjacent ones), a zisofs-compressed file (its run holds
// compressed data), a special file, an empty file (whose recorded extent
// means nothing) and a closed file; opening an interleaved file fails
// already. The run lies inside the image, whatever the image records: a
// file's extent inside the volume, whose last byte Open read, and a boot
// image's inside the image, whose last byte Open read too.
//
// Section lets a caller read the image itself, for example to send a file
// with sendfile(2) from the image's [*os.File] (as the netboot package's
// FileServer does); for an image in memory it gains nothing over the
// file's own ReadAt. sr reads from the image independently of the file: it
// does not move the file's offset, and Close does not stop it.
func (f *File) Section() (sr *io.SectionReader, ok bool) {
	if f.pos.Load() < 0 || !f.n.mode.IsRegular() || f.n.ext != nil || f.n.size <= 0 {
		return nil, false
	}
	r := f.src
	if ra, ok := r.(*readAhead); ok {
		r = ra.r
	}
	return io.NewSectionReader(r, f.n.off, f.n.size), true
}

// readAt reads the file's bytes at offset off, as [io.SectionReader] does
// (io.EOF when p goes past the end).
func (f *File) readAt(p []byte, off int64) (int, error) {
	size := f.Size()
	if off < 0 || off >= size {
		return 0, io.EOF
	}
	base := f.n.off
	if f.n.ext != nil {
		base = 0
	}
	if max := size - off; int64(len(p)) > max {
		n, err := f.src.ReadAt(p[:max], base+off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return f.src.ReadAt(p, base+off)
}

// Read reads from the current offset.
func (f *File) Read(p []byte) (int, error) {
	pos := f.pos.Load()
	if pos < 0 {
		return 0, pathErr("read", f.n.name, fs.ErrClosed)
	}
	size := f.Size()
	if pos >= size {
		return 0, io.EOF
	}
	if max := size - pos; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := f.readAt(p, pos)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	// Fails only when Close came meanwhile; the file stays closed.
	f.pos.CompareAndSwap(pos, pos+int64(n))
	return n, err
}

// ReadAt reads len(p) bytes at offset off, independent of the file offset.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.pos.Load() < 0 {
		return 0, pathErr("read", f.n.name, fs.ErrClosed)
	}
	return f.readAt(p, off)
}

var (
	errWhence = errors.New("Seek: invalid whence")
	errOffset = errors.New("Seek: invalid offset")
)

// Seek sets the offset for the next Read, as [io.Seeker] says.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	pos := f.pos.Load()
	if pos < 0 {
		return 0, pathErr("seek", f.n.name, fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += pos
	case io.SeekEnd:
		offset += f.Size()
	default:
		return 0, errWhence
	}
	if offset < 0 {
		return 0, errOffset
	}
	if !f.pos.CompareAndSwap(pos, offset) {
		return 0, pathErr("seek", f.n.name, fs.ErrClosed)
	}
	return offset, nil
}

// copyBufs holds the buffers WriteTo copies through: larger than io.Copy's
// 32 KiB so that a sequential read costs few system calls. A file of at
// most smallFile bytes is copied through one of smallBufs instead, so that
// a walk copying small files does not take (and fault in) a large buffer
// per processor.
var (
	copyBufs  = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}
	smallBufs = sync.Pool{New: func() any { b := make([]byte, smallFile); return &b }}
)

// WriteTo writes the rest of the file from the current offset to w, so
// that [io.Copy] reads in large blocks (and a small file read in image
// order is written straight from the read-ahead window). The offset
// moves by the bytes written, also when w fails.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	pos := f.pos.Load()
	if pos < 0 {
		return 0, pathErr("read", f.n.name, fs.ErrClosed)
	}
	if ra, ok := f.src.(*readAhead); ok && pos < f.Size() {
		n, ok, err := ra.writeTo(w, f.n.off+pos, f.Size()-pos)
		if ok {
			f.pos.CompareAndSwap(pos, pos+n)
			return n, err
		}
	}
	pool := &copyBufs
	if f.Size() <= smallFile {
		pool = &smallBufs
	}
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := f.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				// The offset moves by what was written.
				f.pos.CompareAndSwap(pos+total+int64(n-m), pos+total)
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close marks the file closed; later reads fail with [fs.ErrClosed].
func (f *File) Close() error {
	if f.pos.Swap(-1) < 0 {
		return pathErr("close", f.n.name, fs.ErrClosed)
	}
	if z, ok := f.zisofs(); ok {
		z.release()
	}
	return nil
}

// zisofs returns the decompressor under f, for a zisofs-compressed file.
func (f *File) zisofs() (*zisofsFile, bool) {
	z, ok := f.src.(*zisofsFile)
	return z, ok
}

// multiExtent reads a file stored in several extents as one.
type multiExtent struct {
	r   io.ReaderAt
	ext []extent
}

func (m *multiExtent) ReadAt(p []byte, off int64) (int, error) {
	// Find the first extent that ends after off.
	lo, hi := 0, len(m.ext)
	for lo < hi {
		mid := (lo + hi) / 2
		if m.ext[mid].pos+m.ext[mid].size <= off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	total := 0
	for i := lo; i < len(m.ext) && len(p) > 0; i++ {
		e := m.ext[i]
		rel := off - e.pos
		if rel < 0 || rel >= e.size {
			continue
		}
		k := min(int64(len(p)), e.size-rel)
		n, err := m.r.ReadAt(p[:k], e.off+rel)
		total += n
		if err != nil && !(err == io.EOF && int64(n) == k) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return total, err
		}
		p = p[k:]
		off += k
	}
	if len(p) > 0 {
		return total, io.EOF
	}
	return total, nil
}

// dirFile is an open directory.
type dirFile struct {
	n      *node
	d      *dirData
	pos    int
	closed bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.n, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, pathErr("read", d.n.name, errIsDir)
}

func (d *dirFile) Close() error {
	if d.closed {
		return pathErr("close", d.n.name, fs.ErrClosed)
	}
	d.closed = true
	return nil
}

// ReadDir returns the next entries, as [fs.ReadDirFile] says.
func (d *dirFile) ReadDir(count int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, pathErr("readdir", d.n.name, fs.ErrClosed)
	}
	rest := len(d.d.entries) - d.pos
	if count > 0 && rest == 0 {
		return nil, io.EOF
	}
	if count > 0 && count < rest {
		rest = count
	}
	list := make([]fs.DirEntry, rest)
	for i := range list {
		list[i] = &d.d.entries[d.pos+i]
	}
	d.pos += rest
	return list, nil
}
