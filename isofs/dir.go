package isofs

import (
	"cmp"
	"fmt"
	"io/fs"
	"iter"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"
)

// node is one directory entry: a file, directory, symbolic link or special
// file. Nodes live in the slices of cached directories and are never changed
// after the directory is cached, so they are shared without locks.
//
// Times stay in their recorded form (substrings of the directory's data)
// and are decoded when asked for: a walk then neither computes nor stores
// times, and a node costs no allocation of its own.
type node struct {
	name  string
	size  int64     // bytes of data; for a directory, of its extent
	off   int64     // byte offset of the data (first extent) or directory extent
	tf    string    // Rock Ridge TF entry from its flags byte on, or ""
	link  string    // symbolic link target
	ext   *[]extent // all extents of a multi-extent file, else nil
	px    px        // Rock Ridge PX attributes, if flags has nodePX
	mode  fs.FileMode
	flags uint8
	rec   [7]byte // recording date and time (ECMA-119 §9.1.5)
}

// px holds the fields of a Rock Ridge PX entry (RRIP §4.1.1).
type px struct {
	mode, nlink, uid, gid, ino uint32
}

const (
	nodeInterleaved uint8 = 1 << iota // file unit size not zero: unsupported
	nodeZisofs                        // Rock Ridge ZF "pz": zisofs-compressed data, size uncompressed, ext set
	nodeZisofsOther                   // Rock Ridge ZF of another algorithm: unsupported
	nodePX                            // px holds a Rock Ridge PX entry
)

// TF time stamp bits (RRIP §4.1.6).
const (
	tfModify = 1 << 1
	tfAccess = 1 << 2
	tfAttr   = 1 << 3
)

// extent is one piece of a multi-extent file (ECMA-119 §6.5.1).
type extent struct {
	pos  int64 // offset in the file
	off  int64 // offset in the image
	size int64
}

// Stat is what [fs.FileInfo.Sys] returns for a file of an image with Rock
// Ridge: the POSIX attributes of its PX and TF entries (RRIP §4.1.1,
// §4.1.6). Without Rock Ridge Sys returns nil.
type Stat struct {
	Mode  uint32    // st_mode as recorded, file type bits included
	Nlink uint32    // st_nlink
	UID   uint32    // st_uid
	GID   uint32    // st_gid
	Ino   uint32    // file serial number (RRIP 1.12), 0 if absent
	Atime time.Time // access time; zero if the TF entry has none
	Ctime time.Time // attribute change time
}

func (n *node) Name() string      { return n.name }
func (n *node) Size() int64       { return n.size }
func (n *node) Mode() fs.FileMode { return n.mode }
func (n *node) ModTime() time.Time {
	if t, ok := tfTime(n.tf, tfModify); ok {
		return t
	}
	return shortTime(n.rec[:])
}
func (n *node) IsDir() bool                { return n.mode.IsDir() }
func (n *node) Type() fs.FileMode          { return n.mode.Type() }
func (n *node) Info() (fs.FileInfo, error) { return n, nil }
func (n *node) String() string             { return fs.FormatDirEntry(n) }

// Sys returns a *[Stat] (a copy) for an image with Rock Ridge, else nil.
func (n *node) Sys() any {
	if n.flags&nodePX == 0 {
		return nil
	}
	s := &Stat{Mode: n.px.mode, Nlink: n.px.nlink, UID: n.px.uid, GID: n.px.gid, Ino: n.px.ino}
	s.Atime, _ = tfTime(n.tf, tfAccess)
	s.Ctime, _ = tfTime(n.tf, tfAttr)
	return s
}

// dirData is a decoded directory.
type dirData struct {
	entries []node     // sorted by name, names unique
	bad     []badEntry // records that could not be decoded, not listed
	lost    int        // damaged records beyond maxBadPerDir, not in bad

	// For the dirCache: its key, what it costs and its place in the list.
	off        int64
	bytes      int64
	prev, next *dirData

	// owner is the directory (byte offset) that a claim found owns this
	// one, if claimed; guarded by the FS's mutex (see FS.claimDir).
	owner   int64
	claimed bool

	// gone is set when the cache drops this directory, or does not keep
	// it at all: FS.last must not hold it then.
	gone atomic.Bool

	// here is this directory as FS.last holds it, once hereSet.
	here    lastDir
	hereSet atomic.Bool
}

// badEntry is a directory record that is damaged: it is left out of the
// listing, and opening its name fails with err.
type badEntry struct {
	name string // as far as it could be decoded; "" if not at all
	err  error  // a *FormatError
}

func (d *dirData) find(name string) *node {
	if i := d.index(name); i >= 0 {
		return &d.entries[i]
	}
	return nil
}

// index returns the index in d.entries of the entry called name, or -1.
func (d *dirData) index(name string) int {
	// A binary search written out, comparing with < and == rather than
	// through a function call per step: lookups are much of what opening
	// a path costs.
	lo, hi := 0, len(d.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.entries[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(d.entries) && d.entries[lo].name == name {
		return lo
	}
	return -1
}

// findBad returns the error of the damaged record called name, or nil.
func (d *dirData) findBad(name string) error {
	for i := range d.bad {
		if d.bad[i].name == name {
			return d.bad[i].err
		}
	}
	return nil
}

// rootNode makes the node of a root directory record found in a volume
// descriptor at byte offset at.
func (f *FS) rootNode(rec string, at int64) (*node, error) {
	r := dirRecord(rec)
	if r.length() < minRecordLen {
		return nil, corrupt(at, "root directory record")
	}
	n := &node{
		name: ".",
		mode: fs.ModeDir | 0o555,
		size: int64(r.dataLength()),
		off:  int64(r.extent()) * f.bs,
		rec:  [7]byte([]byte(r[18:25])),
	}
	if err := f.checkDirExtent(n, at); err != nil {
		return nil, err
	}
	return n, nil
}

func (f *FS) checkDirExtent(n *node, at int64) error {
	if n.size <= 0 || n.size > maxDirSize {
		return corrupt(at, "directory size")
	}
	if n.off < (firstVD+1)*sectorSize || n.off+n.size > f.limit {
		return corrupt(at, "directory extent outside the volume")
	}
	return nil
}

// rootSUSP decodes the SUSP entries of the "." record of the root directory.
func (f *FS) rootSUSP(root *node) (rrInfo, error) {
	var info rrInfo
	buf := make([]byte, min(f.bs, root.size))
	if _, err := f.r.ReadAt(buf, root.off); err != nil {
		return info, truncated(root.off, "root directory")
	}
	r := dirRecord(buf)
	if r.length() < minRecordLen || r.length() > len(r) {
		return info, corrupt(root.off, "root directory record")
	}
	_, su, ok := r[:r.length()].split()
	if !ok {
		return info, corrupt(root.off, "root directory record")
	}
	if len(su) >= 7 && su[:2] == "SP" {
		err := f.parseSUSP(su, 0, root.off, &info)
		return info, err
	}
	return info, nil
}

// applyRR sets the attributes that Rock Ridge entries give a node.
func (n *node) applyRR(info *rrInfo) {
	n.tf = info.tf
	if !info.hasMode {
		return
	}
	n.px = px{mode: info.mode, nlink: info.nlink, uid: info.uid, gid: info.gid, ino: info.ino}
	n.flags |= nodePX
	perm := fs.FileMode(info.mode & 0o777)
	if info.mode&0o4000 != 0 {
		perm |= fs.ModeSetuid
	}
	if info.mode&0o2000 != 0 {
		perm |= fs.ModeSetgid
	}
	if info.mode&0o1000 != 0 {
		perm |= fs.ModeSticky
	}
	n.mode = n.mode.Type() | perm
}

// loadDir returns the decoded directory n, from the cache or decoded now.
func (f *FS) loadDir(n *node) (*dirData, error) {
	f.mu.Lock()
	d := f.cache.get(n.off)
	f.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := f.parseDir(n)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	d = f.cache.add(n.off, d)
	f.mu.Unlock()
	return d, nil
}

// maxBadPerDir is how many damaged records of one directory are kept, with
// their names and errors, for lookups and [FS.Check]; the rest are counted.
const maxBadPerDir = 64

// parseDir decodes the directory extent of n (ECMA-119 §6.8.1). A record
// whose own fields are wrong (an extent outside the volume, a bad SUSP
// area, an unreadable length) is left out and noted in the result's bad
// entries; the directory's other records are still served. Only a
// directory that cannot be read at all is an error.
func (f *FS) parseDir(dn *node) (*dirData, error) {
	bp := getBuf(&bufs, int(dn.size))
	defer putBuf(&bufs, bp)
	if _, err := f.r.ReadAt(*bp, dn.off); err != nil {
		return nil, truncated(dn.off, "directory")
	}
	// data is the buffer seen as a string, valid until parseDir returns:
	// the decoder copies what the nodes keep of it (names, TF entries) to
	// one arena string per directory.
	data := unsafe.String(unsafe.SliceData(*bp), len(*bp))
	ap := getBuf(&arenas, len(data)/3)
	defer putBuf(&arenas, ap)
	count := countRecords(data, int(f.bs))
	sp := getSpans(count)
	defer putSpans(sp)
	dec := dirDecoder{
		f:     f,
		d:     &dirData{entries: make([]node, 0, count)},
		spans: (*sp)[:0],
		arena: (*ap)[:0],
		multi: -1,
	}
	for at, r := range records(data, dn.off, int(f.bs)) {
		if r == "" {
			dec.endMulti()
			dec.d.addBad("", corrupt(at, "directory record length"))
			continue
		}
		dec.record(r, at)
	}
	d := dec.finish()
	*ap = dec.arena[:0] // the arena may have grown
	*sp = dec.spans[:0]
	return d, nil
}

// spanBufs holds the span slices of parseDir, which are needed only while
// a directory is decoded.
var spanBufs sync.Pool

func getSpans(n int) *[]span {
	if sp, ok := spanBufs.Get().(*[]span); ok && cap(*sp) >= n {
		return sp
	}
	s := make([]span, 0, max(n, 256))
	return &s
}

func putSpans(sp *[]span) {
	if cap(*sp) <= maxPooledBuf/int(unsafe.Sizeof(span{})) {
		spanBufs.Put(sp)
	}
}

// records yields the directory records in data, the directory extent at
// byte offset off, each with its offset in the image. Zero bytes pad a
// block to its end (§6.8.1.1). A record whose length byte cannot be
// right is yielded as "", and the walk goes on at the next block, as no
// record crosses a block boundary.
func records(data string, off int64, bs int) iter.Seq2[int64, dirRecord] {
	return func(yield func(int64, dirRecord) bool) {
		for pos := 0; pos < len(data); {
			l := int(data[pos])
			if l == 0 {
				pos = (pos/bs + 1) * bs
				continue
			}
			at := off + int64(pos)
			if l < minRecordLen || pos+l > len(data) {
				if !yield(at, "") {
					return
				}
				pos = (pos/bs + 1) * bs
				continue
			}
			if !yield(at, dirRecord(data[pos:pos+l])) {
				return
			}
			pos += l
		}
	}
}

// dirDecoder turns the records of one directory into a [dirData]: it
// assembles multi-extent files from their records, notes damaged records,
// and gathers the names and TF entries the nodes keep into one arena.
type dirDecoder struct {
	f     *FS
	d     *dirData
	spans []span // of each entry, in arena
	arena []byte
	info  rrInfo // reused from record to record

	// A multi-extent file continues with records of the same name: while
	// inMulti, records named multiID are its further extents. multi is
	// the index in d.entries of the file being assembled (the last
	// entry), or -1 when it is not listed (damaged or of an invalid name)
	// and its records are only skipped.
	multi   int
	multiID string
	multiAt int64
	inMulti bool

	unsorted bool
}

// record decodes the record r at byte offset at.
func (dec *dirDecoder) record(r dirRecord, at int64) {
	id, su, ok := r.split()
	if !ok {
		dec.endMulti()
		dec.d.addBad("", corrupt(at, "directory record identifier length"))
		return
	}
	if id == "\x00" || id == "\x01" {
		return // "." (the parent's record describes this directory) and ".."
	}
	if dec.inMulti {
		if id == dec.multiID && r.flags()&flagDirectory == 0 {
			dec.extend(r, at)
			return
		}
		// The file ended without its last extent; this record is the
		// next entry.
		dec.endMulti()
	}
	dec.info = rrInfo{link: dec.info.link[:0]}
	// The node is decoded in its place at the end of the entries (their
	// capacity is the count of records), and taken back off if it is not
	// listed.
	k := len(dec.d.entries)
	dec.d.entries = append(dec.d.entries, node{})
	n := &dec.d.entries[k]
	if err := dec.f.decodeRecord(n, r, id, su, at, &dec.info); err != nil {
		// A damaged first record of a multi-extent file takes its further
		// records with it.
		name := n.name
		dec.unkeep(k)
		dec.d.addBad(name, err)
		if r.flags()&(flagMultiExtent|flagDirectory) == flagMultiExtent {
			dec.inMulti, dec.multiID, dec.multi = true, id, -1
		}
		return
	}
	if dec.f.rr && dec.info.relocated {
		dec.unkeep(k)
		return // shown where its CL record is (RRIP §4.1.5.2)
	}
	// Only a file (fileNode) is multi-extent.
	multi := r.flags()&flagMultiExtent != 0 && n.ext != nil
	if multi {
		dec.inMulti, dec.multiID, dec.multiAt, dec.multi = true, id, at, -1
	}
	if !validName(n.name) {
		dec.unkeep(k)
		return
	}
	dec.keep(k)
	if multi {
		dec.multi = k
	}
}

// unkeep takes the entry k, the last, back off the directory.
func (dec *dirDecoder) unkeep(k int) {
	dec.d.entries[k] = node{}
	dec.d.entries = dec.d.entries[:k]
}

// extend adds the extent of r, a further record of the multi-extent file
// being assembled, to it.
func (dec *dirDecoder) extend(r dirRecord, at int64) {
	if r.flags()&flagMultiExtent == 0 {
		dec.inMulti = false
	}
	if dec.multi < 0 {
		return
	}
	m := &dec.d.entries[dec.multi]
	ext := *m.ext
	last := ext[len(ext)-1]
	e := extent{pos: last.pos + last.size, off: (int64(r.extent()) + int64(r.earLength())) * dec.f.bs, size: int64(r.dataLength())}
	if err := dec.f.checkExtent(e, at); err != nil {
		dec.dropMulti(err)
		return
	}
	*m.ext = append(ext, e)
	if m.flags&nodeZisofs == 0 {
		m.size += e.size
	}
	if !dec.inMulti {
		dec.multi = -1
	}
}

// endMulti ends a multi-extent file cut short: its records stop before
// the one marked last, so it is dropped as damaged.
func (dec *dirDecoder) endMulti() {
	if dec.multi >= 0 {
		dec.dropMulti(corrupt(dec.multiAt, "multi-extent file without its last extent"))
	}
	dec.inMulti = false
}

// dropMulti removes the multi-extent file being assembled, the last entry,
// and notes it as damaged.
func (dec *dirDecoder) dropMulti(err error) {
	dec.d.addBad(dec.d.entries[dec.multi].name, err)
	dec.d.entries = dec.d.entries[:dec.multi]
	dec.spans = dec.spans[:dec.multi]
	dec.multi = -1
}

// keep keeps the entry k, the last, in the directory, its name and TF
// entry in the arena.
func (dec *dirDecoder) keep(k int) {
	n := &dec.d.entries[k]
	if k > 0 && dec.d.entries[k-1].name >= n.name {
		dec.unsorted = true
	}
	sp := span{name: uint32(len(dec.arena)), nameLen: uint32(len(n.name))}
	dec.arena = append(dec.arena, n.name...)
	sp.tf, sp.tfLen = uint32(len(dec.arena)), uint32(len(n.tf))
	dec.arena = append(dec.arena, n.tf...)
	dec.spans = append(dec.spans, sp)
}

// finish ends the directory: the arena is copied once to a string of its
// exact size that the nodes' names and TF entries point into, and the
// entries are sorted, their names made unique and shared directories
// dropped.
func (dec *dirDecoder) finish() *dirData {
	dec.endMulti()
	d := dec.d
	strs := string(dec.arena)
	for i := range d.entries {
		sp := dec.spans[i]
		d.entries[i].name = strs[sp.name : sp.name+sp.nameLen]
		d.entries[i].tf = strs[sp.tf : sp.tf+sp.tfLen]
	}
	if dec.unsorted {
		d.entries = sortNodes(d.entries)
	}
	d.dropSharedDirs()
	d.bytes = d.memory(len(strs))
	return d
}

// decodeRecord fills in n, a zero node, from the directory record r
// (identifier id, system use area su) at byte offset at, decoding its SUSP
// entries into info when the tree has Rock Ridge. The node's name and TF
// entry may point into r. For a directory that Rock Ridge relocated
// (info.relocated) the node stays empty. A damaged record gives an error,
// with the node's name as far as it is known.
func (f *FS) decodeRecord(n *node, r dirRecord, id, su string, at int64, info *rrInfo) error {
	if f.rr {
		if err := f.parseSUSP(su, f.skip, at, info); err != nil {
			n.name = plainName(id) // the Rock Ridge name is lost
			return err
		}
		if info.relocated {
			return nil
		}
	}
	copy(n.rec[:], r[18:25])
	n.size = int64(r.dataLength())
	n.off = (int64(r.extent()) + int64(r.earLength())) * f.bs
	switch {
	case f.rr && info.hasName:
		n.name = info.name
	case f.vol.Names == NamesJoliet:
		n.name = jolietName(id)
	default:
		n.name = plainName(id)
	}
	var err error
	switch {
	case r.flags()&flagDirectory != 0:
		n.mode = fs.ModeDir | 0o555
		n.off = int64(r.extent()) * f.bs
		err = f.checkDirExtent(n, at)
	case f.rr && info.hasChild:
		n.mode = fs.ModeDir | 0o555
		n.off = int64(info.child) * f.bs
		n.size, err = f.relocatedSize(n.off, at)
	case f.rr && info.hasLink && (!info.hasMode || info.mode&sIFMT == sIFLNK):
		n.mode = fs.ModeSymlink | 0o777
		n.link = string(info.link)
		n.size = int64(len(n.link))
		n.off = 0
	default:
		err = f.fileNode(n, r, at, info)
	}
	if err != nil {
		return err
	}
	if f.rr {
		n.applyRR(info)
	}
	return nil
}

// fileNode fills in a node that is neither a directory nor a symbolic
// link: its type from PX, its extents, and what ZF says of its data.
func (f *FS) fileNode(n *node, r dirRecord, at int64, info *rrInfo) error {
	n.mode = 0o555 // as Linux and xorriso show files without Rock Ridge
	if f.rr && info.hasMode {
		switch info.mode & sIFMT {
		case sIFIFO:
			n.mode |= fs.ModeNamedPipe
		case sIFCHR:
			n.mode |= fs.ModeDevice | fs.ModeCharDevice
		case sIFBLK:
			n.mode |= fs.ModeDevice
		case sIFSOCK:
			n.mode |= fs.ModeSocket
		}
	}
	if r.unitSize() != 0 || r.interleaveGap() != 0 {
		n.flags |= nodeInterleaved
	}
	if err := f.checkExtent(extent{off: n.off, size: n.size}, at); err != nil {
		return err
	}
	if r.flags()&flagMultiExtent != 0 {
		n.ext = &[]extent{{off: n.off, size: n.size}}
	}
	if f.rr && info.zf && n.mode.IsRegular() {
		// The recorded extents hold the compressed data; the size shown
		// is the uncompressed one (zisofs.go).
		switch {
		case info.zfAlgo == "pz":
			n.flags |= nodeZisofs
			if n.ext == nil {
				n.ext = &[]extent{{off: n.off, size: n.size}}
			}
			n.size = int64(info.zfSize)
		default:
			n.flags |= nodeZisofsOther
		}
	}
	return nil
}

// addBad notes a damaged record; name is copied, as it may point into the
// buffer a directory is read into.
func (d *dirData) addBad(name string, err error) {
	if len(d.bad) >= maxBadPerDir {
		d.lost++
		return
	}
	d.bad = append(d.bad, badEntry{name: strings.Clone(name), err: err})
}

// dropSharedDirs removes the entries that are the same directory as an
// entry before them (by name): listing both would let a small image
// describe an exponentially large tree.
func (d *dirData) dropSharedDirs() {
	var subdirs []int // indexes of directories
	for i := range d.entries {
		if d.entries[i].mode.IsDir() {
			subdirs = append(subdirs, i)
		}
	}
	if len(subdirs) < 2 {
		return
	}
	slices.SortStableFunc(subdirs, func(a, b int) int { return cmp.Compare(d.entries[a].off, d.entries[b].off) })
	var drop []int
	for k := 1; k < len(subdirs); k++ {
		if d.entries[subdirs[k]].off == d.entries[subdirs[k-1]].off {
			drop = append(drop, subdirs[k])
		}
	}
	if len(drop) == 0 {
		return
	}
	slices.Sort(drop)
	kept := d.entries[:0:0]
	for i := range d.entries {
		if len(drop) > 0 && drop[0] == i {
			drop = drop[1:]
			d.addBad(d.entries[i].name, corrupt(d.entries[i].off, "directory listed twice in its parent"))
			continue
		}
		kept = append(kept, d.entries[i])
	}
	d.entries = kept
}

// span locates a node's name and TF entry in a directory's arena.
type span struct{ name, nameLen, tf, tfLen uint32 }

// bufs holds the buffers directories are read into, arenas those their
// strings are gathered in. Two pools, so that neither hands out buffers
// too small for the other's use (which would be put back and pile up).
var bufs, arenas sync.Pool

const maxPooledBuf = 1 << 20

func getBuf(pool *sync.Pool, n int) *[]byte {
	if bp, ok := pool.Get().(*[]byte); ok {
		if cap(*bp) >= n {
			*bp = (*bp)[:n]
			return bp
		}
		// Too small: dropped, as putting it back would let the pool fill
		// with buffers that no larger directory can use.
	}
	b := make([]byte, n, max(n, 64<<10))
	return &b
}

func putBuf(pool *sync.Pool, bp *[]byte) {
	if cap(*bp) <= maxPooledBuf {
		pool.Put(bp)
	}
}

// sortNodes returns the nodes sorted by name. It sorts indexes, not the
// nodes, which are large to move. Names that several records share (in the
// plain ECMA-119 tree a file "12345678.;1" and a directory "12345678" both
// become "12345678") are made unique by renameDuplicates.
func sortNodes(nodes []node) []node {
	idx := make([]int32, len(nodes))
	for i := range idx {
		idx[i] = int32(i)
	}
	byName := func(a, b int32) int { return strings.Compare(nodes[a].name, nodes[b].name) }
	slices.SortStableFunc(idx, byName)
	for k := 1; k < len(idx); k++ {
		if nodes[idx[k]].name == nodes[idx[k-1]].name {
			renameDuplicates(nodes, idx)
			slices.SortFunc(idx, byName)
			break
		}
	}
	out := make([]node, len(nodes))
	for k, i := range idx {
		out[k] = nodes[i]
	}
	return out
}

// renameDuplicates gives every node a name of its own, as xorriso does
// when it loads such a tree: of the records that share a name, a file (or
// other non-directory) keeps it, else the first directory; the others, in
// the order of their records, get "_" appended, or "_2", "_3", ... when
// that too is taken. idx lists the nodes sorted by name, stably.
func renameDuplicates(nodes []node, idx []int32) {
	used := make(map[string]int, len(nodes)) // name -> next suffix to try
	for _, n := range nodes {
		used[n.name] = 2
	}
	for k := 0; k < len(idx); {
		end := k + 1
		for end < len(idx) && nodes[idx[end]].name == nodes[idx[k]].name {
			end++
		}
		group := idx[k:end]
		k = end
		if len(group) == 1 {
			continue
		}
		keep := group[0]
		for _, i := range group {
			if !nodes[i].mode.IsDir() {
				keep = i
				break
			}
		}
		base := nodes[keep].name
		for _, i := range group {
			if i == keep {
				continue
			}
			name := base + "_"
			for {
				if _, taken := used[name]; !taken {
					break
				}
				name = base + "_" + strconv.Itoa(used[base])
				used[base]++
			}
			used[name] = 2
			nodes[i].name = name
		}
	}
}

// countRecords counts the directory records in data, at most one per
// minRecordLen bytes, to size the slice of entries.
func countRecords(data string, bs int) int {
	n := 0
	for pos := 0; pos < len(data); {
		l := int(data[pos])
		if l == 0 {
			pos = (pos/bs + 1) * bs
			continue
		}
		n++
		pos += max(l, minRecordLen)
	}
	return n
}

// checkExtent checks that a file's data lies inside the volume.
func (f *FS) checkExtent(e extent, at int64) error {
	if e.size == 0 {
		return nil
	}
	if e.off < 0 || e.off+e.size > f.limit {
		return corrupt(at, "file extent outside the volume")
	}
	return nil
}

// relocatedSize reads the "." record of a directory moved by Rock Ridge
// (RRIP §4.1.5.1) to learn the size of its extent.
func (f *FS) relocatedSize(off, at int64) (int64, error) {
	var buf [minRecordLen]byte
	if off < (firstVD+1)*sectorSize || off+int64(len(buf)) > f.limit {
		return 0, corrupt(at, "Rock Ridge CL location")
	}
	if _, err := f.r.ReadAt(buf[:], off); err != nil {
		return 0, truncated(off, "relocated directory")
	}
	r := dirRecord(buf[:])
	n := &node{off: off, size: int64(r.dataLength())}
	if r.length() < minRecordLen || r.idLength() != 1 || buf[33] != 0 || int64(r.extent())*f.bs != off {
		return 0, corrupt(off, "relocated directory \".\" record")
	}
	if err := f.checkDirExtent(n, off); err != nil {
		return 0, err
	}
	return n.size, nil
}

func validName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	return strings.IndexByte(name, '/') < 0 && strings.IndexByte(name, 0) < 0
}

// dirOf returns the decoded directory n, reached from the directory at byte
// offset parent. The first parent that reaches a directory owns it; any
// other parent listing it is an error. So every directory has one place in
// the tree, and a hostile image can neither loop nor describe a tree
// exponentially larger than itself. (The ".." records cannot serve for
// this: xorriso's Joliet trees and genisoimage's over-deep directories
// point them at the directory itself.)
func (f *FS) dirOf(n *node, parent int64) (*dirData, error) {
	if n == f.root {
		if d := f.rootDir.Load(); d != nil {
			return d, nil
		}
	}
	// A directory in the cache is found and claimed under one lock.
	f.mu.Lock()
	d := f.cache.get(n.off)
	var err error
	if d != nil {
		err = f.claimDir(d, n, parent)
	}
	f.mu.Unlock()
	if d == nil {
		if d, err = f.loadDir(n); err != nil {
			return nil, err
		}
		f.mu.Lock()
		err = f.claimDir(d, n, parent)
		if err == nil && n == f.root && f.rootDir.Load() == nil && f.cache.pin(d) {
			f.rootDir.Store(d)
		}
		f.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// claimDir is claim for n, whose listing is d: d remembers the parent
// whose claim succeeded, so that the next lookup through the same parent
// needs no look in owners. The root's listing remembers none: another
// node with the root's extent is a loop, whatever its parent. f.mu is
// held.
func (f *FS) claimDir(d *dirData, n *node, parent int64) error {
	if n == f.root {
		return nil
	}
	if d.claimed && d.owner == parent {
		return nil
	}
	if err := f.claim(n, parent); err != nil {
		return err
	}
	d.claimed, d.owner = true, parent
	return nil
}

// claim records parent as the owner of directory n, or returns an error
// if another directory owns it; f.mu is held.
func (f *FS) claim(n *node, parent int64) error {
	if n == f.root {
		return nil
	}
	if n.off == f.root.off {
		return corrupt(n.off, "directory that is the root directory (a loop)")
	}
	owner, ok := f.owners[n.off]
	if !ok {
		f.owners[n.off] = parent
		return nil
	}
	if owner != parent {
		return corrupt(n.off, fmt.Sprintf("directory listed in the directories at byte %d and %d (a loop or a shared directory)", owner, parent))
	}
	return nil
}

// resolve finds the node of a valid path. Symbolic links in the middle of
// the path are followed, and so is the last element when follow is set.
// Link targets are resolved inside the image: an absolute target starts at
// the image's root and ".." never climbs above it.
//
// A name inside the directory that the previous lookup ended in (see
// [lastDir]) is resolved from there rather than from the root.
func (f *FS) resolve(name string, follow bool) (n *node, parentOff int64, err error) {
	cur, parent := f.root, f.root.off
	var d *dirData    // cur's listing, when known already
	var hint *lastDir // d's, when it comes from f.last
	// full is the path being resolved (name, or where a link led), and
	// rest what of it is left: the directories walked so far are a
	// prefix of full, so no string is built per element.
	full, rest := name, name
	if l := f.last.Load(); l != nil && l.holds(name) {
		// l.path is valid, so name is when the rest after it is.
		rest = name[len(l.path)+1:]
		if !validRest(rest) {
			return nil, 0, fs.ErrInvalid
		}
		cur, d, hint = l.n, l.d, l
	} else {
		if !fs.ValidPath(name) {
			return nil, 0, fs.ErrInvalid
		}
		if name == "." {
			full, rest = "", ""
		}
	}
	links := 0
	for rest != "" {
		at := len(full) - len(rest) // where elem starts in full
		var elem string
		elem, rest, _ = strings.Cut(rest, "/")
		if !cur.mode.IsDir() {
			return nil, 0, fs.ErrNotExist
		}
		if d == nil {
			if d, err = f.dirOf(cur, parent); err != nil {
				return nil, 0, err
			}
		}
		var i int
		if hint != nil && hint.d == d {
			i = hint.index(elem)
		} else {
			i = d.index(elem)
		}
		if i < 0 {
			if err := d.findBad(elem); err != nil {
				return nil, 0, err
			}
			return nil, 0, fs.ErrNotExist
		}
		child := &d.entries[i]
		if child.mode&fs.ModeSymlink != 0 && (rest != "" || follow) {
			links++
			if links > maxLinkFollow {
				return nil, 0, ErrLinkLoop
			}
			target := child.link
			if !strings.HasPrefix(target, "/") {
				// Relative to the directory holding the link.
				target = full[:at] + "/" + target
			}
			target = strings.TrimPrefix(path.Clean("/"+target+"/"+rest), "/")
			cur, parent, full, rest, d = f.root, f.root.off, target, target, nil
			continue
		}
		if rest == "" && links == 0 && at > 0 && (hint == nil || hint.d != d) {
			// name[:at-1], the path of cur, was walked without a link.
			f.remember(name[:at-1], cur, d, i)
		}
		parent, cur, d = cur.off, child, nil
	}
	return cur, parent, nil
}

// validRest reports whether rest is a valid path other than ".", as
// fs.ValidPath does, at a glance for the usual single ASCII element.
func validRest(rest string) bool {
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c >= utf8.RuneSelf {
			return rest != "." && fs.ValidPath(rest)
		}
	}
	return rest != "" && rest != "." && rest != ".."
}

// lastDir is the directory in which a lookup last found its final
// element (reached without a symbolic link, and not the root): a walk
// opens the files of a directory one after another, in order, so the
// next lookup in it starts there instead of at the root, validates only
// the rest of its name, and tries the entry after the one found last
// before a binary search. The FS keeps one, shared by all goroutines.
//
// It never holds a directory that the cache has dropped ([dirData.gone]),
// so the cache's bound on memory still holds.
type lastDir struct {
	path string // the directory's path: valid, not "."
	n    *node  // the directory
	d    *dirData
	next atomic.Int32 // index in d.entries after the last entry found
}

// holds reports whether name lies under l's directory, which the cache
// still keeps.
func (l *lastDir) holds(name string) bool {
	k := len(l.path)
	return len(name) > k+1 && name[k] == '/' && name[:k] == l.path && !l.d.gone.Load()
}

// index is d.index(name), trying the entry after the last one found first.
func (l *lastDir) index(name string) int {
	e := l.d.entries
	i := int(l.next.Load())
	if i >= len(e) || e[i].name != name {
		if i = l.d.index(name); i < 0 {
			return -1
		}
	}
	l.next.Store(int32(i + 1))
	return i
}

// remember makes the directory n at path dir, whose listing is d, the
// FS's lastDir; i is the index of the entry just found in it. It
// allocates nothing after the first time for d: d's lastDir is part of
// it, its path never changes (a directory has one parent, see dirOf, and
// dir was walked without links).
func (f *FS) remember(dir string, n *node, d *dirData, i int) {
	if d.gone.Load() {
		return
	}
	if !d.hereSet.Load() {
		f.mu.Lock()
		if !d.hereSet.Load() {
			d.here.path, d.here.n, d.here.d = strings.Clone(dir), n, d
			d.hereSet.Store(true)
		}
		f.mu.Unlock()
	}
	d.here.next.Store(int32(i + 1))
	f.last.Store(&d.here)
}
