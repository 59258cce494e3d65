package isofs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// zisofs (version 1, algorithm "pz") is the compression of mkzftree,
// mkisofs -z and xorriso's --zisofs filter, announced by a Rock Ridge ZF
// entry. The file's recorded data is a 16-byte header, a table of block
// pointers and the blocks:
//
//	0  8 bytes  magic 37 E4 53 96 C9 DB D6 07
//	8  4 bytes  uncompressed size, little-endian
//	12 1 byte   header size in 4-byte units (4)
//	13 1 byte   log2 of the block size (15, 16 or 17)
//	14 2 bytes  reserved
//
// The table, at the end of the header, holds one little-endian 32-bit
// offset (from the start of the file's data) per block, plus one for the
// end of the last block: block i is the zlib stream from pointer i to
// pointer i+1 and inflates to a whole block (the last one to the rest of
// the file). A block whose two pointers are equal is all zeros.
//
// The ZF entry repeats the algorithm, header size, block size and
// uncompressed size: bytes 4-5 "pz", 6 header size, 7 log2 block size,
// 8-15 the uncompressed size both-endian.
const (
	zisofsMagic     = "\x37\xE4\x53\x96\xC9\xDB\xD6\x07"
	zisofsHeaderLen = 16
	zisofsMinLog2   = 15
	zisofsMaxLog2   = 17
	zisofsMaxBlock  = 1 << zisofsMaxLog2
)

// zisofsMaxStored bounds the compressed size of one block of 1<<log2
// bytes: zlib's worst case (deflateBound) is the block plus about 0.03%
// and a few bytes, so anything larger is not a block a compressor wrote.
func zisofsMaxStored(log2 uint) int64 {
	n := int64(1) << log2
	return n + n>>8 + 64
}

// zisofsFile reads the uncompressed contents of a zisofs file from its
// recorded (compressed) data. It keeps the last block it inflated, so that
// small sequential reads (a TFTP transfer's 512-byte blocks) inflate each
// block once; a read that covers a whole block inflates it straight into
// the caller's buffer. It is safe for concurrent use.
type zisofsFile struct {
	r      io.ReaderAt // the recorded data
	at     int64       // byte offset of the recorded data in the image, for errors
	stored int64       // bytes of recorded data
	size   int64       // uncompressed size
	log2   uint        // log2 of the block size
	table  int64       // offset of the block pointers in the recorded data

	mu  sync.Mutex
	idx int64   // index of the block in blk
	blk *[]byte // the last block inflated, from zisofsBlocks, or nil
}

// zisofsBlocks holds buffers of zisofsMaxBlock bytes for inflated blocks.
var zisofsBlocks = sync.Pool{New: func() any { b := make([]byte, zisofsMaxBlock); return &b }}

// inflater is the state of one block's decompression, pooled: the zlib
// reader's window and tables are large to allocate per block.
type inflater struct {
	zr   io.ReadCloser
	src  bytes.Reader
	comp []byte
}

var inflaters sync.Pool

// openZisofs checks the header of the recorded data r (stored bytes, at
// byte offset at of the image) of a file whose ZF entry gave the
// uncompressed size size, and returns its reader. The header must agree
// with the ZF entry and the block table must lie inside the recorded data,
// so the uncompressed size is at most stored/4 blocks.
func openZisofs(r io.ReaderAt, at, stored, size int64) (*zisofsFile, error) {
	var h [zisofsHeaderLen]byte
	if stored < zisofsHeaderLen {
		return nil, corrupt(at, "zisofs file shorter than its header")
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, truncated(at, "zisofs header")
	}
	hs := string(h[:])
	if hs[:8] != zisofsMagic {
		return nil, corrupt(at, "zisofs header magic")
	}
	if int64(le32(hs, 8)) != size {
		return nil, corrupt(at, "zisofs header size differs from the Rock Ridge ZF entry")
	}
	log2 := uint(h[13])
	if h[12] < zisofsHeaderLen/4 || log2 < zisofsMinLog2 || log2 > zisofsMaxLog2 {
		return nil, corrupt(at, "zisofs header or block size")
	}
	z := &zisofsFile{r: r, at: at, stored: stored, size: size, log2: log2, table: int64(h[12]) * 4, idx: -1}
	blocks := (size + 1<<log2 - 1) >> log2
	if z.table+4*(blocks+1) > stored {
		return nil, corrupt(at, "zisofs block table past the end of the file")
	}
	return z, nil
}

// ReadAt reads the uncompressed bytes at off, inflating the blocks they
// lie in.
func (z *zisofsFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("isofs: negative offset")
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= z.size {
			return n, io.EOF
		}
		c, err := z.readBlock(p[n:], pos>>z.log2, pos&(1<<z.log2-1))
		n += c
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// blockLen returns the uncompressed length of block i.
func (z *zisofsFile) blockLen(i int64) int64 {
	return min(int64(1)<<z.log2, z.size-i<<z.log2)
}

// readBlock copies into p what it can of block i from offset within of it.
func (z *zisofsFile) readBlock(p []byte, i, within int64) (int, error) {
	bl := z.blockLen(i)
	z.mu.Lock()
	if z.blk != nil && z.idx == i {
		c := copy(p, (*z.blk)[within:bl])
		z.mu.Unlock()
		return c, nil
	}
	z.mu.Unlock()
	start, end, err := z.pointers(i)
	if err != nil {
		return 0, err
	}
	if start == end { // a block of zeros
		c := min(int64(len(p)), bl-within)
		clear(p[:c])
		return int(c), nil
	}
	if within == 0 && int64(len(p)) >= bl {
		return int(bl), z.inflate(p[:bl], start, end)
	}
	bp := zisofsBlocks.Get().(*[]byte)
	if err := z.inflate((*bp)[:bl], start, end); err != nil {
		zisofsBlocks.Put(bp)
		return 0, err
	}
	c := copy(p, (*bp)[within:bl])
	z.mu.Lock()
	old := z.blk
	z.blk, z.idx = bp, i
	z.mu.Unlock()
	if old != nil {
		zisofsBlocks.Put(old)
	}
	return c, nil
}

// pointers returns where block i lies in the recorded data, checked.
func (z *zisofsFile) pointers(i int64) (start, end int64, err error) {
	var b [8]byte
	at := z.table + 4*i
	if _, err := z.r.ReadAt(b[:], at); err != nil {
		return 0, 0, truncated(z.at+at, "zisofs block table")
	}
	start, end = int64(binary.LittleEndian.Uint32(b[:4])), int64(binary.LittleEndian.Uint32(b[4:]))
	tableEnd := z.table + 4*((z.size+1<<z.log2-1)>>z.log2+1)
	if start < tableEnd || end < start || end > z.stored || end-start > zisofsMaxStored(z.log2) {
		return 0, 0, corrupt(z.at+at, "zisofs block pointer")
	}
	return start, end, nil
}

// inflate decompresses the zlib stream at [start, end) of the recorded
// data into out, which it must fill exactly.
func (z *zisofsFile) inflate(out []byte, start, end int64) error {
	inf, _ := inflaters.Get().(*inflater)
	if inf == nil {
		inf = &inflater{comp: make([]byte, zisofsMaxStored(zisofsMaxLog2))}
	}
	defer inflaters.Put(inf)
	comp := inf.comp[:end-start]
	if n, _ := z.r.ReadAt(comp, start); n < len(comp) {
		return truncated(z.at+start, "zisofs block")
	}
	inf.src.Reset(comp)
	var err error
	if inf.zr == nil {
		inf.zr, err = zlib.NewReader(&inf.src)
	} else {
		err = inf.zr.(zlib.Resetter).Reset(&inf.src, nil)
	}
	if err != nil {
		inf.zr = nil
		return corrupt(z.at+start, "zisofs block: "+err.Error())
	}
	if _, err := io.ReadFull(inf.zr, out); err != nil {
		return corrupt(z.at+start, "zisofs block: "+err.Error())
	}
	// The stream must end here; reading on checks its Adler-32.
	var one [1]byte
	if n, err := inf.zr.Read(one[:]); n != 0 || err != io.EOF {
		return corrupt(z.at+start, "zisofs block longer than the block size or its checksum wrong")
	}
	return nil
}

// release gives the cached block back to the pool.
func (z *zisofsFile) release() {
	z.mu.Lock()
	bp := z.blk
	z.blk = nil
	z.mu.Unlock()
	if bp != nil {
		zisofsBlocks.Put(bp)
	}
}
